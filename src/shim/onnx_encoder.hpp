// onnx_encoder.hpp - ArcFace-style face encoders in ONNX files, run through
// OpenCV's dnn module: the second implementation of the encoder step, beside
// dlib's ResNet (nets.cpp picks one per fa_nets from the encoder spec).
//
// Each face is cut from the full-resolution image by a similarity transform
// that puts its five landmarks on the model's template (or, for FACE01's
// model, dlib's own face chip), normalised per channel, and run in batches
// when the network accepts them. Cosine models' outputs are L2-normalised.
#ifndef FA_ONNX_ENCODER_HPP
#define FA_ONNX_ENCODER_HPP

#include <memory>
#include <string>
#include <vector>

#include <dlib/image_processing/full_object_detection.h>
#include <opencv2/core.hpp>

#include "faceaudit/encoder.h"

namespace fa {

class onnx_encoder {
public:
    // Loads and checks the model: its pinned SHA-256 (named models), that
    // OpenCV can read it, that one face gives spec.dim numbers, and whether
    // it takes batches. Throws std::runtime_error naming the file.
    onnx_encoder(const std::string &path, const fa_encoder_spec &spec);
    ~onnx_encoder();
    int dim() const { return spec_.dim; }
    int max_batch() const { return max_batch_; }
    // One vector per landmark set, into out (shapes.size() x dim floats);
    // rgb is the full-resolution image.
    void encode(const cv::Mat &rgb, const std::vector<dlib::full_object_detection> &shapes, float *out);
    // The aligned input crop of one face (RGB, input size): for tests and
    // for looking at what the network sees.
    cv::Mat crop(const cv::Mat &rgb, const dlib::full_object_detection &shape) const;

private:
    struct impl;
    std::unique_ptr<impl> net_;
    fa_encoder_spec spec_;
    std::string path_;
    int max_batch_ = 1;
    void run(const std::vector<cv::Mat> &crops, size_t first, size_t n, float *out);
};

}  // namespace fa
#endif
