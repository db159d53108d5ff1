// landmarks.hpp - a fast reader of dlib's shape predictor (landmark model)
// files; see landmarks.cpp.
#ifndef FA_SHIM_LANDMARKS_HPP
#define FA_SHIM_LANDMARKS_HPP

#include <memory>
#include <string>
#include <vector>

#include <dlib/image_processing/shape_predictor.h>

namespace fa {

// The model in path, as dlib::deserialize(path) >> model would read it;
// throws dlib's serialization_error when the file cannot be read.
// Refuses (std::runtime_error) a model whose trees index outside its shape.
std::shared_ptr<dlib::shape_predictor> read_shape_predictor(const std::string &path);

// Whether read_shape_predictor and dlib's reader give byte-identical models
// (for tests).
bool same_as_dlib(const std::string &path);

// A shape predictor evaluated from flat arrays: dlib's algorithm, the same
// additions in the same order, so the same landmarks bit for bit, in about a
// quarter of the time. dlib's operator() adds each tree's leaf (136 floats
// for 68 points) to the shape one float at a time through its matrix
// expressions, 7,500 trees a face; here a leaf is one contiguous run added
// four floats at a time. The model's trees move out of `sp` into it.
class landmark_model {
public:
    explicit landmark_model(dlib::shape_predictor &&sp);
    unsigned long num_parts() const { return (unsigned long)initial_.size() / 2; }
    // The landmarks of the face in rect, as sp(img, rect) gives them.
    template <typename image_type>
    dlib::full_object_detection operator()(const image_type &img, const dlib::rectangle &rect) const;

private:
    struct split { unsigned long idx1, idx2; float thresh; };
    struct tree { size_t first_split, n_splits, first_leaf; };
    dlib::matrix<float, 0, 1> initial_;
    std::vector<std::vector<unsigned long>> anchors_;
    std::vector<std::vector<dlib::vector<float, 2>>> deltas_;
    std::vector<std::vector<tree>> cascades_;
    std::vector<split> splits_;
    std::vector<float> leaves_;
};

// Whether landmark_model and dlib's shape_predictor give the same landmarks
// on a few boxes of a noise image, grey and colour (for tests).
bool landmark_model_matches_dlib(const std::string &path);

}  // namespace fa

#endif
