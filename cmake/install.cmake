# install.cmake - the library as others build on it: libfaceaudit.so (only the
# FA_API functions exported) and libfaceaudit.a (the four internal archives
# merged into one), the public headers (include/faceaudit/ only), faceaudit.pc
# and a CMake package (faceauditConfig.cmake, its version file and exported
# target faceaudit::faceaudit; COMPONENTS static adds faceaudit::faceaudit_static),
# the tool, its man page and its bash completion.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Shared: the archives linked whole into one object. (A library needs a
# source of its own; this empty one is written only when missing.)
file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/fa_shared.c
     CONTENT "/* libfaceaudit.so: its code comes from the static archives, linked whole. */\n")
add_library(faceaudit_shared SHARED ${CMAKE_BINARY_DIR}/fa_shared.c)
set_target_properties(faceaudit_shared PROPERTIES OUTPUT_NAME faceaudit EXPORT_NAME faceaudit
  VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})
# Link options come before the libraries on the command line, so every object
# of the archives is taken; the archives' own dependencies follow as usual.
target_link_options(faceaudit_shared PRIVATE -Wl,--whole-archive $<TARGET_FILE:faceaudit_review> $<TARGET_FILE:faceaudit_lib>
  $<TARGET_FILE:faceaudit_shim> $<TARGET_FILE:faceaudit_core> -Wl,--no-whole-archive)
if(NOT FA_SANITIZE)   # the sanitizer runtimes are resolved by the program
  target_link_options(faceaudit_shared PRIVATE -Wl,--no-undefined)
endif()
target_link_options(faceaudit_shared PRIVATE -Wl,--version-script=${PROJECT_SOURCE_DIR}/cmake/libfaceaudit.map)
set_property(TARGET faceaudit_shared APPEND PROPERTY LINK_DEPENDS ${PROJECT_SOURCE_DIR}/cmake/libfaceaudit.map)
target_link_libraries(faceaudit_shared PRIVATE faceaudit_review)
target_include_directories(faceaudit_shared INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)

# Static: one archive a program links instead of four (ar's MRI script
# keeps members of the same name apart).
set(FA_STATIC_LIB ${CMAKE_BINARY_DIR}/libfaceaudit.a)
file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/libfaceaudit.mri CONTENT
"CREATE ${FA_STATIC_LIB}
ADDLIB $<TARGET_FILE:faceaudit_review>
ADDLIB $<TARGET_FILE:faceaudit_lib>
ADDLIB $<TARGET_FILE:faceaudit_shim>
ADDLIB $<TARGET_FILE:faceaudit_core>
SAVE
END
")
add_custom_command(OUTPUT ${FA_STATIC_LIB}
  COMMAND ${CMAKE_COMMAND} -DAR=${CMAKE_AR} -DOUT=${FA_STATIC_LIB} -DMRI=${CMAKE_BINARY_DIR}/libfaceaudit.mri
          -P ${PROJECT_SOURCE_DIR}/cmake/merge_archives.cmake
  DEPENDS faceaudit_review faceaudit_lib faceaudit_shim faceaudit_core ${PROJECT_SOURCE_DIR}/cmake/merge_archives.cmake
  COMMENT "Merging the archives into libfaceaudit.a")
add_custom_target(faceaudit_static ALL DEPENDS ${FA_STATIC_LIB})

set(FA_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/faceaudit)
install(TARGETS faceaudit_shared EXPORT faceauditTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${FA_STATIC_LIB} DESTINATION ${CMAKE_INSTALL_LIBDIR})
# mpi.h belongs to the tool's optional MPI layer, not to the library.
install(DIRECTORY include/faceaudit DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} PATTERN mpi.h EXCLUDE)
install(EXPORT faceauditTargets NAMESPACE faceaudit:: DESTINATION ${FA_CMAKE_DIR})
install(TARGETS faceaudit RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES docs/faceaudit.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES completion/faceaudit.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
  RENAME faceaudit)

configure_package_config_file(cmake/faceauditConfig.cmake.in
  ${CMAKE_BINARY_DIR}/faceauditConfig.cmake INSTALL_DESTINATION ${FA_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_LIBDIR CMAKE_INSTALL_INCLUDEDIR)
# 0.x: a minor version may change the API.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/faceauditConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/faceauditConfig.cmake ${CMAKE_BINARY_DIR}/faceauditConfigVersion.cmake
  DESTINATION ${FA_CMAKE_DIR})

# The .pc finds the prefix from its own place, so `cmake --install --prefix`
# anywhere gives a working file.
file(RELATIVE_PATH FA_PC_TO_PREFIX /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
configure_file(cmake/faceaudit.pc.in ${CMAKE_BINARY_DIR}/faceaudit.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/faceaudit.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
