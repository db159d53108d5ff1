# merge_archives.cmake - cmake -DAR=ar -DOUT=lib.a -DMRI=script -P: runs ar's
# MRI script that merges archives into OUT (made anew, never appended to).
file(REMOVE ${OUT})
execute_process(COMMAND ${AR} -M INPUT_FILE ${MRI} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${AR} -M < ${MRI} failed (${rc})")
endif()
