// onnx_encoder.cpp - ONNX face encoders through OpenCV dnn (see
// onnx_encoder.hpp).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include <dlib/image_transforms/interpolation.h>
#include <dlib/opencv/cv_image.h>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "faceaudit/faceaudit.h"
#include "onnx_encoder.hpp"

extern "C" {
#include "sha256.h"
}

namespace fa {

struct onnx_encoder::impl {
    cv::dnn::Net net;
};

namespace {

// Faces per forward pass at most: bounds what a crowd photo takes.
const int batch_cap = 16;

cv::Point2f mean_of(const dlib::full_object_detection &s, int from, int to) {
    cv::Point2f m(0, 0);
    for (int i = from; i <= to; i++) m += cv::Point2f((float)s.part(i).x(), (float)s.part(i).y());
    return m * (1.0f / (to - from + 1));
}

cv::Point2f at(const dlib::full_object_detection &s, int i) {
    return cv::Point2f((float)s.part(i).x(), (float)s.part(i).y());
}

// The five ArcFace points (left eye, right eye, nose tip, left and right
// mouth corner, as seen in the image) from dlib's 68 landmarks; from the
// 5-point model, which has no mouth and only the base of the nose, the two
// eye centres.
std::vector<cv::Point2f> five_points(const dlib::full_object_detection &s) {
    if (s.num_parts() == 68)
        return {mean_of(s, 36, 41), mean_of(s, 42, 47), at(s, 30), at(s, 48), at(s, 54)};
    if (s.num_parts() != 5) throw std::runtime_error("face alignment needs 5 or 68 landmarks");
    cv::Point2f a = mean_of(s, 0, 1), b = mean_of(s, 2, 3);
    if (a.x > b.x) std::swap(a, b);
    return {a, b};
}

// Least-squares similarity (rotation, uniform scale, shift; no reflection)
// taking src[i] to dst[i]: the closed form of Umeyama's method in 2-D, which
// is what insightface's estimate_norm computes.
cv::Mat similarity(const std::vector<cv::Point2f> &src, const float *dst) {
    size_t n = src.size();
    cv::Point2f ms(0, 0), md(0, 0);
    for (size_t i = 0; i < n; i++) { ms += src[i]; md += cv::Point2f(dst[2 * i], dst[2 * i + 1]); }
    ms *= 1.0f / n;
    md *= 1.0f / n;
    double saa = 0, sa = 0, sb = 0;
    for (size_t i = 0; i < n; i++) {
        cv::Point2f p = src[i] - ms, q = cv::Point2f(dst[2 * i], dst[2 * i + 1]) - md;
        saa += p.dot(p);
        sa += p.x * q.x + p.y * q.y;
        sb += p.x * q.y - p.y * q.x;
    }
    if (saa <= 0) throw std::runtime_error("degenerate landmarks");
    double a = sa / saa, b = sb / saa;
    cv::Mat m = (cv::Mat_<double>(2, 3) << a, -b, md.x - (a * ms.x - b * ms.y), b, a, md.y - (b * ms.x + a * ms.y));
    return m;
}

std::string hex_sha256(const std::string &path) {
    uint8_t d[32];
    char hex[65];
    if (fa_sha256_file(path.c_str(), d)) throw std::runtime_error(fa_last_error());
    fa_sha256_hex(d, hex);
    return hex;
}

cv::dnn::Net read_net(const std::string &path) {
    try {
        cv::dnn::Net net = cv::dnn::readNetFromONNX(path);
        if (net.empty()) throw std::runtime_error("empty network");
        net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
        net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
        return net;
    } catch (const cv::Exception &e) {
        // OpenCV's message runs to several lines; its first says what failed.
        std::string why = e.err.empty() ? e.what() : e.err;
        throw std::runtime_error("cannot load encoder model " + path +
                                 ": not a usable ONNX file (truncated or damaged?): " + why);
    }
}

// A deterministic test pattern, different for each face of a probe batch.
cv::Mat probe_face(int w, int h, int k) {
    cv::Mat m(h, w, CV_8UC3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) m.at<cv::Vec3b>(y, x)[c] = (uint8_t)((x * 7 + y * 13 + c * 50 + k * 91) % 256);
    return m;
}

}  // namespace

onnx_encoder::onnx_encoder(const std::string &path, const fa_encoder_spec &spec)
    : net_(new impl), spec_(spec), path_(path) {
    if (spec.sha256[0]) {
        std::string got = hex_sha256(path);
        if (got != spec.sha256)
            throw std::runtime_error("encoder model " + path + " has sha256 " + got + ", but " + spec.name +
                                     " is " + spec.sha256 + ": the file is damaged or another model; "
                                     "fetch it again with `faceaudit models fetch --encoder " + spec.name + "`");
    }
    if (spec.align == FA_ALIGN_DLIB_CHIP && spec.input_w != spec.input_h)
        throw std::runtime_error(std::string("encoder ") + spec.name + ": dlib chips are square, the input is not");
    // faceaudit runs one network per worker thread, as for BLAS.
    cv::setNumThreads(1);
    net_->net = read_net(path);
    // One face through the network: a model that loads but cannot run, or
    // whose output is not spec.dim numbers, is refused now rather than
    // after an hour of indexing.
    std::vector<cv::Mat> probes = {probe_face(spec.input_w, spec.input_h, 0), probe_face(spec.input_w, spec.input_h, 1)};
    std::vector<float> one(2 * (size_t)spec.dim), two(2 * (size_t)spec.dim);
    run(probes, 0, 1, one.data());
    run(probes, 1, 1, one.data() + spec.dim);
    // Batches only where the network really computes each face on its own
    // (fr_feature.onnx's Reshape fixes batch 1, for instance).
    try {
        max_batch_ = 2;
        run(probes, 0, 2, two.data());
        for (size_t i = 0; i < two.size(); i++)
            if (std::fabs(two[i] - one[i]) > 1e-3f) throw std::runtime_error("batch differs");
        max_batch_ = batch_cap;
    } catch (const std::exception &) {
        max_batch_ = 1;
        net_->net = read_net(path);   // a failed forward may leave it half-reshaped
    }
}

onnx_encoder::~onnx_encoder() = default;

cv::Mat onnx_encoder::crop(const cv::Mat &rgb, const dlib::full_object_detection &shape) const {
    if (spec_.align == FA_ALIGN_DLIB_CHIP) {
        dlib::cv_image<dlib::rgb_pixel> view(rgb);
        dlib::matrix<dlib::rgb_pixel> chip;
        dlib::extract_image_chip(view, dlib::get_face_chip_details(shape, spec_.input_w, spec_.padding), chip);
        return cv::Mat(chip.nr(), chip.nc(), CV_8UC3, &chip(0, 0)).clone();
    }
    std::vector<cv::Point2f> pts = five_points(shape);
    cv::Mat m = similarity(pts, spec_.template5), out;
    cv::warpAffine(rgb, out, m, cv::Size(spec_.input_w, spec_.input_h), cv::INTER_LINEAR, cv::BORDER_CONSTANT);
    return out;
}

// crops[first..first+n) through the network in one pass.
void onnx_encoder::run(const std::vector<cv::Mat> &crops, size_t first, size_t n, float *out) {
    const int w = spec_.input_w, h = spec_.input_h, d = spec_.dim;
    int shape[4] = {(int)n, 3, h, w};
    cv::Mat blob(4, shape, CV_32F);
    float *b = blob.ptr<float>();
    for (size_t k = 0; k < n; k++) {
        const cv::Mat &c = crops[first + k];
        for (int ch = 0; ch < 3; ch++) {
            int src = spec_.rgb ? ch : 2 - ch;
            float mean = spec_.mean[ch], scale = spec_.scale[ch];
            float *plane = b + ((k * 3 + ch) * (size_t)h * w);
            for (int y = 0; y < h; y++) {
                const uint8_t *row = c.ptr<uint8_t>(y);
                for (int x = 0; x < w; x++) plane[(size_t)y * w + x] = (row[3 * x + src] - mean) * scale;
            }
        }
    }
    cv::Mat res;
    try {
        net_->net.setInput(blob);
        res = spec_.output[0] ? net_->net.forward(spec_.output) : net_->net.forward();
    } catch (const cv::Exception &e) {
        throw std::runtime_error("encoder model " + path_ + " failed on a " + std::to_string(w) + "x" +
                                 std::to_string(h) + " input: " + (e.err.empty() ? e.what() : e.err));
    }
    if (res.total() != n * (size_t)d || res.size[0] != (int)n)
        throw std::runtime_error("encoder model " + path_ + " gives " + std::to_string(res.total() / std::max<size_t>(n, 1)) +
                                 " numbers per face, but its spec says dim " + std::to_string(d) +
                                 ": fix \"dim\" in the encoder spec");
    const float *r = res.ptr<float>();
    for (size_t k = 0; k < n; k++) {
        float *o = out + k * d;
        std::memcpy(o, r + k * d, d * sizeof(float));
        if (spec_.metric != FA_METRIC_COSINE) continue;
        double ss = 0;
        for (int i = 0; i < d; i++) ss += (double)o[i] * o[i];
        float inv = ss > 0 ? (float)(1 / std::sqrt(ss)) : 0;
        for (int i = 0; i < d; i++) o[i] *= inv;
    }
}

void onnx_encoder::encode(const cv::Mat &rgb, const std::vector<dlib::full_object_detection> &shapes, float *out) {
    std::vector<cv::Mat> crops;
    crops.reserve(shapes.size());
    for (const auto &s : shapes) crops.push_back(crop(rgb, s));
    for (size_t i = 0; i < crops.size(); i += max_batch_)
        run(crops, i, std::min(crops.size() - i, (size_t)max_batch_), out + i * spec_.dim);
}

}  // namespace fa
