// cvnet.hpp - dlib's two networks (the MMOD face detector and the ResNet
// encoder) run by OpenCV's dnn module, built in code from the weights of the
// loaded dlib networks: no file conversion, the same numbers up to float
// rounding, about 3x faster on a CPU (dlib's CPU convolution spends most of
// its time building im2col matrices, not multiplying). dlib still does
// everything around the forward pass: the input tensor (its image pyramid
// or chip batch), and mapping detector outputs back to image boxes.
#ifndef FA_SHIM_CVNET_HPP
#define FA_SHIM_CVNET_HPP

#include <memory>
#include <vector>

#include <dlib/dnn.h>

#include "resnet.hpp"

namespace fa {

// The detector: det(img) of dlib, i.e. detections with a score above 0 after
// dlib's non-maximum suppression, with the forward pass on OpenCV.
// Where the CPU has AVX-512F its convolutions run on dconv.hpp's direct
// kernels instead (direct = false: OpenCV's dnn for every layer).
class cv_detector {
public:
    explicit cv_detector(const det_net_type &det);
    ~cv_detector();
    std::vector<dlib::mmod_rect> operator()(const det_net_type &det, const dlib::matrix<dlib::rgb_pixel> &img,
                                            bool direct = true);
    double gflop() const;  // arithmetic of the forward passes so far (a multiply-add is 2)

private:
    struct impl;
    std::unique_ptr<impl> p_;
};

// The encoder: one 128-d descriptor per 150x150 chip, as enc(chips) of dlib.
class cv_encoder {
public:
    explicit cv_encoder(const anet_type &enc);
    ~cv_encoder();
    std::vector<dlib::matrix<float, 0, 1>> operator()(const anet_type &enc,
                                                     const std::vector<dlib::matrix<dlib::rgb_pixel>> &chips,
                                                     size_t batch);
    double gflop() const;

private:
    struct impl;
    std::unique_ptr<impl> p_;
};

}  // namespace fa

#endif
