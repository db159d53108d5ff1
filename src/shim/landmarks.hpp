// landmarks.hpp - a fast reader of dlib's shape predictor (landmark model)
// files; see landmarks.cpp.
#ifndef FA_SHIM_LANDMARKS_HPP
#define FA_SHIM_LANDMARKS_HPP

#include <memory>
#include <string>

#include <dlib/image_processing/shape_predictor.h>

namespace fa {

// The model in path, as dlib::deserialize(path) >> model would read it;
// throws dlib's serialization_error when the file cannot be read.
// Refuses (std::runtime_error) a model whose trees index outside its shape.
std::shared_ptr<dlib::shape_predictor> read_shape_predictor(const std::string &path);

// Whether read_shape_predictor and dlib's reader give byte-identical models
// (for tests).
bool same_as_dlib(const std::string &path);

}  // namespace fa

#endif
