// nets.cpp - the three networks behind faceaudit: dlib's MMOD CNN face
// detector, the landmark predictor that aligns each face, and the ResNet
// encoder that turns an aligned 150x150 chip into a 128-d embedding.
//
// Detection runs on a rescaled copy of the image (see fa_detect_default_params
// for why and which sizes); landmarks and chips always come from the original
// full-resolution pixels, so embeddings do not depend on the detection scale.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <dlfcn.h>
#include <malloc.h>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <dlib/image_processing.h>
#include <dlib/opencv/cv_image.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "cvnet.hpp"
#include "landmarks.hpp"
#include "onnx_encoder.hpp"
#include "resnet.hpp"
#include "shim.h"

extern "C" void openblas_set_num_threads(int);  // from libopenblas, linked directly

// The landmark model (99 MB for the 68-point one) is read-only once loaded,
// so one copy serves every fa_nets in the process; it loads in the background
// while the detector runs on the first image. It is evaluated by
// fa::landmark_model (landmarks.hpp): dlib's landmarks, four times faster.
using landmarks_future = std::shared_future<std::shared_ptr<const fa::landmark_model>>;

struct fa_nets {
    fa::det_net_type detector;
    landmarks_future landmarks_f;
    fa::anet_type encoder;
    std::unique_ptr<fa::onnx_encoder> onnx;    // set: ONNX encoder instead of the ResNet
    // "dlib+E": the ResNet's vector times fuse[0], then onnx's times fuse[1]
    // (each 1 / (its same-person distance x sqrt 2); encoder.h); else 0.
    float fuse[2] = {0, 0};
    bool fused() const { return fuse[0] > 0; }
    // The same two networks' forward passes on OpenCV (cvnet.hpp); dlib's
    // own runs instead when forward is FA_FORWARD_DLIB.
    std::unique_ptr<fa::cv_detector> detector_cv;
    std::unique_ptr<fa::cv_encoder> encoder_cv;
    fa_forward forward = FA_FORWARD_OPENCV;
    fa_nets_stats stats{};
    const fa::landmark_model &landmarks() { return *landmarks_f.get(); }
};

namespace {

using clock_type = std::chrono::steady_clock;

double ms_since(clock_type::time_point t0) {
    return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

// --- detection ------------------------------------------------------------

// A view of the caller's RGB buffer that dlib's image functions accept,
// without copying the full-resolution image.
cv::Mat as_mat(const fa_image *img) {
    return cv::Mat(img->height, img->width, CV_8UC3, img->rgb);
}

// The image resized by `scale` into the detector's input type. Area
// averaging when shrinking avoids aliasing that hides faces; bilinear when
// enlarging.
dlib::matrix<dlib::rgb_pixel> scaled_copy(const fa_image *img, double scale) {
    long w = std::max(1L, std::lround(img->width * scale));
    long h = std::max(1L, std::lround(img->height * scale));
    dlib::matrix<dlib::rgb_pixel> out(h, w);
    cv::Mat dst(h, w, CV_8UC3, &out(0, 0));
    if (w == img->width && h == img->height)
        as_mat(img).copyTo(dst);
    else
        cv::resize(as_mat(img), dst, dst.size(), 0, 0, scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
    return out;
}

// Never enlarge more than 2x (dlib's pyramid_up step): beyond that the
// detector gains nothing and the cost grows with the square of the scale.
const double max_upscale = 2.0;

// The first pass's scale: long side brought down to detect_long_side, or up
// towards upsample_min_side for small images (the detector misses faces
// below about 80 px).
double first_scale(const fa_image *img, const fa_detect_params *p) {
    double L = std::max(img->width, img->height);
    if (p->detect_long_side > 0 && L > p->detect_long_side) return p->detect_long_side / L;
    int up = p->detect_long_side > 0 ? std::min(p->upsample_min_side, p->detect_long_side)
                                     : p->upsample_min_side;
    if (up > 0 && L < up) return std::min(up / L, max_upscale);
    return 1.0;
}

// The second pass's scale for an image where the first found nothing: long
// side up to retry_long_side (which bounds its memory), or 0 when that would
// not look meaningfully closer than the first pass did.
double retry_scale(const fa_image *img, const fa_detect_params *p, double first) {
    if (p->retry_long_side <= 0 || p->retry_long_side <= p->detect_long_side) return 0;
    double L = std::max(img->width, img->height);
    double s = std::min(p->retry_long_side / L, max_upscale);
    return s > first * 1.2 ? s : 0;
}

// Share of the box that lies inside the image.
double inside_fraction(const dlib::rectangle &r, long w, long h) {
    dlib::rectangle in = r.intersect(dlib::rectangle(0, 0, w - 1, h - 1));
    return r.area() ? (double)in.area() / r.area() : 0;
}

// No face fits an image narrower or lower than the detector's window, and
// dlib's image pyramid writes out of bounds on such a strip (a 7x3000 PNG
// corrupted the heap).
bool under_window(const fa_nets *n, long rows, long cols) {
    for (const auto &w : n->detector.loss_details().get_options().detector_windows)
        if (rows < (long)w.height || cols < (long)w.width) return true;
    return false;
}

// Runs the detector at one scale (not on an image under its window: no
// face, on every path); boxes come back in original pixels, without the
// ones mostly outside the image.
std::vector<fa_box> detect_at(fa_nets *n, const fa_image *img, double scale, fa_forward how) {
    dlib::matrix<dlib::rgb_pixel> small = scaled_copy(img, scale);
    if (under_window(n, small.nr(), small.nc())) return {};
    std::vector<dlib::mmod_rect> dets = how == FA_FORWARD_DLIB
                                            ? n->detector(small)
                                            : (*n->detector_cv)(n->detector, small, how != FA_FORWARD_OPENCV_DNN);
    n->stats.detect_passes++;
    n->stats.detect_megapixels += small.size() / 1e6;
    std::vector<fa_box> out;
    for (const dlib::mmod_rect &d : dets) {
        if (inside_fraction(d.rect, small.nc(), small.nr()) < 0.5) continue;
        fa_box b;
        b.x = (float)(d.rect.left() / scale);
        b.y = (float)(d.rect.top() / scale);
        b.w = (float)(d.rect.width() / scale);
        b.h = (float)(d.rect.height() / scale);
        b.score = (float)d.detection_confidence;
        out.push_back(b);
    }
    return out;
}

int copy_sorted(std::vector<fa_box> &found, fa_box *boxes, int max) {
    std::stable_sort(found.begin(), found.end(),
                     [](const fa_box &a, const fa_box &b) { return a.score > b.score; });
    for (int i = 0; i < max && i < (int)found.size(); i++) boxes[i] = found[i];
    return (int)found.size();
}

int check_image(const fa_image *img, const char *fn) {
    if (!img || !img->rgb || img->width < 1 || img->height < 1)
        return fa_error("%s: empty image", fn);
    return 0;
}

int detect(fa_nets *n, const fa_image *img, const fa_detect_params *p, fa_box *boxes, int max) {
    auto t0 = clock_type::now();
    double s1 = first_scale(img, p);
    std::vector<fa_box> found = detect_at(n, img, s1, n->forward);
    // Only a photo with no face at all gets a second look: retrying photos
    // whose faces are merely small doubled the detector's work on
    // nogizaka46 for 2% more faces.
    double s2 = found.empty() ? retry_scale(img, p, s1) : 0;
    if (s2 > 0) {
        n->stats.retries++;
        found = detect_at(n, img, s2, n->forward);
    }
    n->stats.detect_ms += ms_since(t0);
    return copy_sorted(found, boxes, max);
}

// --- landmarks, chips, embeddings ----------------------------------------------

dlib::rectangle to_rect(const fa_box &b) {
    return dlib::rectangle(std::lround(b.x), std::lround(b.y),
                           std::lround(b.x + b.w) - 1, std::lround(b.y + b.h) - 1);
}

// Landmarks of every face, from the full-resolution image.
std::vector<dlib::full_object_detection> face_shapes(fa_nets *n, const cv::Mat &m,
                                                     const fa_box *boxes, int n_boxes) {
    dlib::cv_image<dlib::rgb_pixel> view(m);
    std::vector<dlib::full_object_detection> shapes;
    for (int i = 0; i < n_boxes; i++) shapes.push_back(n->landmarks()(view, to_rect(boxes[i])));
    return shapes;
}

// Aligned chips of every face, cut from the full-resolution image.
std::vector<dlib::matrix<dlib::rgb_pixel>> face_chips(const cv::Mat &m, const fa_detect_params *p,
                                                      const std::vector<dlib::full_object_detection> &shapes) {
    dlib::cv_image<dlib::rgb_pixel> view(m);
    std::vector<dlib::chip_details> details;
    for (const auto &shape : shapes)
        details.push_back(dlib::get_face_chip_details(shape, p->chip_size, p->chip_padding));
    dlib::array<dlib::matrix<dlib::rgb_pixel>> chips;
    dlib::extract_image_chips(view, details, chips);
    return std::vector<dlib::matrix<dlib::rgb_pixel>>(chips.begin(), chips.end());
}

// Thumbnails (faceaudit.h) must come out alike for one photo at any size,
// crop or encoding. The shape predictor starts from the detector's box, and
// that box sits differently on one face in two sizes of one photo
// (kpop_idols, a 160 px crop and its 80% copy: boxes 10% apart, the nose
// 12 px apart, thumbnails correlating 0.75). So a thumbnail's landmarks are
// found again from a box the landmarks place themselves (their inner-face
// square, 1.2 times it: about the detector's box, median ratio 0.93-1.04 on
// the five photo sets), on a grey copy of the face at one scale (that box
// made THUMB_BOX px: landmarks are whole pixels, coarse on a 40 px face), and
// once more unless that box has settled (moved under 1%). The 80% copies
// planted by bench/eval_audit then correlate 0.99-1.00 with their sources on
// four of the five sets (celeba_aligned's 71 px copy 0.97), and
// celeba_aligned's known same-photo pair 4374 0.997 (0.946 before). The
// encoders keep the landmarks from the detector's box, so the embeddings of
// existing caches stay what they were. Cost: one or two landmark passes a
// face, about 1 ms each with fa::landmark_model (5 ms with dlib's own).
constexpr double THUMB_BOX = 250, BOX_PER_INNER = 1.2, SETTLED = 0.01;
constexpr int THUMB_CHIP = 64;   // the aligned grey chip the thumbnail averages (px)

dlib::drectangle box_from(const dlib::full_object_detection &shape) {
    dlib::drectangle inner = dlib::get_face_chip_details(shape, 150, 0.0).rect;
    return dlib::centered_drect(dlib::center(inner), inner.width() * BOX_PER_INNER,
                                inner.width() * BOX_PER_INNER);
}

dlib::rectangle whole(const dlib::drectangle &r) {
    return dlib::rectangle(std::lround(r.left()), std::lround(r.top()),
                           std::lround(r.right()), std::lround(r.bottom()));
}

// The region twice `box` around its centre, in grey, scaled so that `box`
// is THUMB_BOX px (outside the photo: black). Only the part inside the photo
// is scaled, in colour, before it turns grey: a face of thousands of pixels
// never makes a canvas of its size.
cv::Mat grey_at_thumb_scale(const cv::Mat &m, const dlib::drectangle &box) {
    const int size = (int)(2 * THUMB_BOX);
    cv::Mat out = cv::Mat::zeros(size, size, CV_8UC1);
    const double side = box.width();
    if (!(side >= 1 && side <= 4 * std::max(m.cols, m.rows))) return out;   // a degenerate shape
    const double f = THUMB_BOX / side, x0 = dlib::center(box).x() - side, y0 = dlib::center(box).y() - side;
    const cv::Rect square((int)std::floor(x0), (int)std::floor(y0), (int)std::ceil(2 * side) + 1,
                          (int)std::ceil(2 * side) + 1);
    const cv::Rect in = square & cv::Rect(0, 0, m.cols, m.rows);
    if (in.area() <= 0) return out;
    cv::Rect to((int)std::lround((in.x - x0) * f), (int)std::lround((in.y - y0) * f),
                std::max(1, (int)std::lround(in.width * f)), std::max(1, (int)std::lround(in.height * f)));
    to &= cv::Rect(0, 0, size, size);
    if (to.area() <= 0) return out;
    cv::Mat scaled;
    cv::resize(m(in), scaled, to.size(), 0, 0, f < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
    cv::Mat dst = out(to);
    cv::cvtColor(scaled, dst, cv::COLOR_RGB2GRAY);
    return out;
}

// The face's THUMB_CHIP px grey chip (dlib's chip extraction filters before it
// shrinks, so a large face does not alias).
dlib::matrix<unsigned char> thumb_chip(fa_nets *n, const cv::Mat &m, const dlib::full_object_detection &first) {
    cv::Mat face = grey_at_thumb_scale(m, box_from(first));
    dlib::cv_image<unsigned char> view(face);
    dlib::drectangle box = dlib::centered_drect(dlib::dpoint(THUMB_BOX, THUMB_BOX), THUMB_BOX, THUMB_BOX);
    dlib::full_object_detection shape = n->landmarks()(view, whole(box));
    dlib::drectangle next = box_from(shape);   // once more, unless the box has settled
    if (dlib::length(dlib::center(next) - dlib::center(box)) > SETTLED * THUMB_BOX ||
        std::fabs(next.width() - box.width()) > SETTLED * THUMB_BOX)
        shape = n->landmarks()(view, whole(next));
    dlib::matrix<unsigned char> g;
    dlib::extract_image_chip(view, dlib::get_face_chip_details(shape, THUMB_CHIP, 0.0), g);
    return g;
}

// Each face's chip averaged over 4x4 blocks, which evens out JPEG noise and
// the pixel or so by which two crops' landmarks still differ.
void face_thumbs(fa_nets *n, const cv::Mat &m, const std::vector<dlib::full_object_detection> &shapes,
                 uint8_t *out) {
    static_assert(THUMB_CHIP % FA_THUMB_SIDE == 0, "whole blocks");
    const int k = THUMB_CHIP / FA_THUMB_SIDE;
    for (size_t i = 0; i < shapes.size(); i++) {
        dlib::matrix<unsigned char> g = thumb_chip(n, m, shapes[i]);
        for (int y = 0; y < FA_THUMB_SIDE; y++)
            for (int x = 0; x < FA_THUMB_SIDE; x++) {
                int sum = 0;
                for (int dy = 0; dy < k; dy++)
                    for (int dx = 0; dx < k; dx++) sum += g(y * k + dy, x * k + dx);
                out[i * FA_THUMB_LEN + (size_t)(y * FA_THUMB_SIDE + x)] = (uint8_t)((sum + k * k / 2) / (k * k));
            }
    }
}

int check_boxes(const fa_box *boxes, int n_boxes) {
    for (int i = 0; i < n_boxes; i++)
        if (!(boxes[i].w >= 1 && boxes[i].h >= 1)) return fa_error("fa_encode_faces: box %d is empty", i);
    return 0;
}

// dlib's ResNet on the faces' 150 px chips: 128 floats a face into out,
// stride floats apart.
void resnet_encode(fa_nets *n, const cv::Mat &m, const fa_detect_params *p,
                   const std::vector<dlib::full_object_detection> &shapes, float *out, size_t stride) {
    auto t0 = clock_type::now();
    std::vector<dlib::matrix<dlib::rgb_pixel>> chips = face_chips(m, p, shapes);
    n->stats.align_ms += ms_since(t0);
    // All faces of one image in one batch; 16 at a time bounds the memory
    // a crowd photo can take.
    std::vector<dlib::matrix<float, 0, 1>> emb =
        n->forward == FA_FORWARD_DLIB ? n->encoder(chips, 16) : (*n->encoder_cv)(n->encoder, chips, 16);
    for (size_t i = 0; i < emb.size(); i++) std::copy(emb[i].begin(), emb[i].end(), out + i * stride);
}

// "dlib+E": [resnet / (0.6 sqrt 2), onnx / (t sqrt 2)] a face (encoder.h).
void fused_encode(fa_nets *n, const cv::Mat &m, const fa_detect_params *p,
                  const std::vector<dlib::full_object_detection> &shapes, float *out) {
    const size_t part = (size_t)n->onnx->dim(), dim = 128 + part, k = shapes.size();
    std::vector<float> tail(k * part);
    resnet_encode(n, m, p, shapes, out, dim);
    n->onnx->encode(m, shapes, tail.data());
    for (size_t i = 0; i < k; i++) {
        float *v = out + i * dim;
        for (size_t j = 0; j < 128; j++) v[j] *= n->fuse[0];
        for (size_t j = 0; j < part; j++) v[128 + j] = tail[i * part + j] * n->fuse[1];
    }
}

int encode(fa_nets *n, const fa_image *img, const fa_detect_params *p,
           const fa_box *boxes, int n_boxes, float *out, uint8_t *thumbs) {
    if (n_boxes <= 0) return 0;
    if ((!n->onnx || n->fused()) && p->chip_size != 150)
        return fa_error("fa_encode_faces: chip_size must be 150 for this encoder, not %d", p->chip_size);
    if (check_boxes(boxes, n_boxes)) return -1;
    auto t0 = clock_type::now();
    cv::Mat m = as_mat(img);
    std::vector<dlib::full_object_detection> shapes = face_shapes(n, m, boxes, n_boxes);
    if (thumbs) face_thumbs(n, m, shapes, thumbs);
    n->stats.align_ms += ms_since(t0);
    const double aligned = n->stats.align_ms;
    t0 = clock_type::now();
    if (n->fused()) fused_encode(n, m, p, shapes, out);
    else if (n->onnx) n->onnx->encode(m, shapes, out);   // its own alignment and batches (onnx_encoder.cpp)
    else resnet_encode(n, m, p, shapes, out, 128);
    n->stats.encode_ms += ms_since(t0) - (n->stats.align_ms - aligned);   // dlib's chips count as alignment
    n->stats.faces_encoded += n_boxes;
    return 0;
}

// --- loading ------------------------------------------------------------------

template <typename T>
void load_one(T &item, const char *path, const char *role) {
    if (!path) throw std::runtime_error(std::string("no ") + role + " model given");
    try {
        dlib::deserialize(path) >> item;
    } catch (const std::exception &e) {
        throw std::runtime_error(std::string("cannot load ") + role + " model " + path + ": " + e.what());
    }
}

std::shared_ptr<const fa::landmark_model> load_landmarks(std::string path) {
    std::shared_ptr<dlib::shape_predictor> sp;
    try {
        sp = fa::read_shape_predictor(path);
    } catch (const std::exception &e) {
        throw std::runtime_error("cannot load landmarks model " + path + ": " + e.what());
    }
    if (sp->num_parts() != 5 && sp->num_parts() != 68)
        throw std::runtime_error("landmarks model " + path + " has " + std::to_string(sp->num_parts()) +
                                 " points; face alignment needs 5 or 68");
    return std::make_shared<const fa::landmark_model>(std::move(*sp));
}

// One background load per model file per process; a failed load is
// forgotten so that a later attempt retries.
template <typename T>
using shared_model = std::shared_future<std::shared_ptr<const T>>;

template <typename T, typename Loader>
shared_model<T> shared_load(const char *path, const char *role, Loader loader) {
    static std::mutex mu;
    static std::map<std::string, shared_model<T>> loaded;
    if (!path) throw std::runtime_error(std::string("no ") + role + " model given");
    std::lock_guard<std::mutex> lock(mu);
    auto it = loaded.find(path);
    if (it != loaded.end()) {
        auto &f = it->second;
        if (f.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return f;
        try { f.get(); return f; } catch (...) { loaded.erase(it); }
    }
    shared_model<T> f = std::async(std::launch::async, loader, std::string(path)).share();
    loaded[path] = f;
    return f;
}

landmarks_future shared_landmarks(const char *path) {
    return shared_load<fa::landmark_model>(path, "landmarks", load_landmarks);
}

// The networks are read once per process, the three files in parallel, and
// copied into each fa_nets: copying the encoder's weights takes about 35 ms
// where deserialising its file takes 250 ms.
template <typename T>
std::shared_ptr<const T> load_net(std::string path, const char *role) {
    auto net = std::make_shared<T>();
    load_one(*net, path.c_str(), role);
    return net;
}

fa_nets *load(const fa_model_paths *paths) {
    auto n = std::make_unique<fa_nets>();
    n->landmarks_f = shared_landmarks(paths->landmarks);
    auto det = shared_load<fa::det_net_type>(paths->detector, "detector", [](std::string p) {
        return load_net<fa::det_net_type>(p, "detector"); });
    const bool resnet = !(paths->spec && paths->spec->onnx) || paths->spec->fused;
    if (paths->spec && paths->spec->onnx) {
        if (!paths->encoder) throw std::runtime_error("no encoder model given");
        fa_encoder_spec part;
        fa_encoder_spec_part(paths->spec, &part);
        if (paths->spec->fused) {
            const float root2 = std::sqrt(2.0f);
            n->fuse[0] = 1 / (fa_encoder_same_distance("dlib", FA_METRIC_EUCLIDEAN) * root2);
            n->fuse[1] = 1 / (part.same_distance * root2);
        }
        n->onnx = std::make_unique<fa::onnx_encoder>(paths->encoder, part);
    }
    if (resnet) {
        const char *file = n->fused() ? paths->encoder2 : paths->encoder;
        if (!file) throw std::runtime_error("no dlib encoder model given");
        auto enc = shared_load<fa::anet_type>(file, "encoder", [](std::string p) {
            return load_net<fa::anet_type>(p, "encoder"); });
        n->encoder = *enc.get();
        n->encoder_cv = std::make_unique<fa::cv_encoder>(n->encoder);
    }
    n->detector = *det.get();
    n->detector_cv = std::make_unique<fa::cv_detector>(n->detector);
    return n.release();
}

}  // namespace

// --- the C API ----------------------------------------------------------------

extern "C" void fa_detect_default_params(fa_detect_params *p)
{
    p->detect_long_side = 1024;
    p->upsample_min_side = 0;  // the retry enlarges small images that need it
    p->retry_long_side = 1600;
    p->max_pixels = 80LL * 1000 * 1000;
    p->chip_size = 150;
    p->chip_padding = 0.25f;
}

extern "C" fa_nets *fa_nets_load(const fa_model_paths *paths)
{
    try {
        return load(paths);
    } catch (const std::exception &e) {
        fa_error("fa_nets_load: %s", e.what());
    } catch (...) {
        fa_error("fa_nets_load: unknown error");
    }
    return NULL;
}

extern "C" int fa_nets_ready(fa_nets *n)
{
    try {
        n->landmarks();
        return 0;
    } catch (const std::exception &e) {
        return fa_error("fa_nets_load: %s", e.what());
    }
}

extern "C" void fa_nets_free(fa_nets *n)
{
    if (n && n->landmarks_f.valid()) n->landmarks_f.wait();  // never leave a load running behind us
    delete n;
}

extern "C" int fa_nets_dim(const fa_nets *n)
{
    return !n ? 0 : n->fused() ? 128 + n->onnx->dim() : n->onnx ? n->onnx->dim() : 128;
}

extern "C" int fa_detect(fa_nets *n, const fa_image *img, const fa_detect_params *p,
                         fa_box *boxes, int max)
{
    if (check_image(img, "fa_detect") != 0) return -1;
    try {
        return detect(n, img, p, boxes, max);
    } catch (const std::bad_alloc &) {
        return fa_error("fa_detect: out of memory for a %dx%d image", img->width, img->height);
    } catch (const std::exception &e) {
        return fa_error("fa_detect: %s", e.what());
    } catch (...) {
        return fa_error("fa_detect: unknown error");
    }
}

extern "C" int fa_detect_reference(fa_nets *n, const fa_image *img, int enlarge, fa_box *boxes, int max)
{
    if (check_image(img, "fa_detect_reference") != 0) return -1;
    try {
        auto t0 = clock_type::now();
        std::vector<fa_box> found = detect_at(n, img, enlarge ? 2.0 : 1.0, FA_FORWARD_DLIB);
        n->stats.detect_ms += ms_since(t0);
        return copy_sorted(found, boxes, max);
    } catch (const std::bad_alloc &) {
        return fa_error("fa_detect_reference: out of memory for a %dx%d image", img->width, img->height);
    } catch (const std::exception &e) {
        return fa_error("fa_detect_reference: %s", e.what());
    } catch (...) {
        return fa_error("fa_detect_reference: unknown error");
    }
}

extern "C" int fa_encode_faces_thumbs(fa_nets *n, const fa_image *img, const fa_detect_params *p,
                                      const fa_box *boxes, int n_boxes, float *out, uint8_t *thumbs)
{
    if (check_image(img, "fa_encode_faces") != 0) return -1;
    try {
        return encode(n, img, p, boxes, n_boxes, out, thumbs);
    } catch (const std::bad_alloc &) {
        return fa_error("fa_encode_faces: out of memory");
    } catch (const std::exception &e) {
        return fa_error("fa_encode_faces: %s", e.what());
    } catch (...) {
        return fa_error("fa_encode_faces: unknown error");
    }
}

extern "C" int fa_encode_faces(fa_nets *n, const fa_image *img, const fa_detect_params *p,
                               const fa_box *boxes, int n_boxes, float *out)
{
    return fa_encode_faces_thumbs(n, img, p, boxes, n_boxes, out, NULL);
}

extern "C" int fa_landmarks_selftest(const char *path)
{
    try {
        return fa::same_as_dlib(path) ? 1 : 0;
    } catch (const std::exception &e) {
        return fa_error("fa_landmarks_selftest: %s", e.what());
    }
}

extern "C" int fa_landmarks_eval_selftest(const char *path)
{
    try {
        return fa::landmark_model_matches_dlib(path) ? 1 : 0;
    } catch (const std::exception &e) {
        return fa_error("fa_landmarks_eval_selftest: %s", e.what());
    }
}

extern "C" void fa_nets_set_forward(fa_nets *n, fa_forward how) { n->forward = how; }

extern "C" void fa_nets_get_stats(const fa_nets *n, fa_nets_stats *out)
{
    *out = n->stats;
    out->gflop = (n->detector_cv ? n->detector_cv->gflop() : 0) + (n->encoder_cv ? n->encoder_cv->gflop() : 0);
}

extern "C" void fa_tune_malloc(void)
{
    // dlib allocates (and frees) a large scratch buffer in every convolution;
    // served by mmap, each one costs fresh page faults. Keep them on the heap
    // and keep freed memory for reuse instead of trimming it back.
    // Worker threads would each get their own arena, and a thread arena
    // serves large blocks with mmap whatever M_MMAP_MAX says: one arena for
    // all (measured: 6.5M page faults for 30 photos with one worker, 1.1M with
    // one arena). The trim threshold is above the detector's largest buffers
    // (about 1 GB on a 1600 px second look), so they are kept between images.
    mallopt(M_ARENA_MAX, 1);
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, 1536 * 1024 * 1024);
    mallopt(M_TOP_PAD, 64 * 1024 * 1024);
}

extern "C" int fa_blas_setup(void)
{
    openblas_set_num_threads(1);
    cv::setNumThreads(1);  // the networks' forward passes (cvnet.hpp)
    // dlib calls the generic libblas.so.3, which Debian's alternatives may
    // point at OpenBLAS (a second copy, with its own thread count) or at the
    // ~15x slower reference BLAS.
    void *h = dlopen("libblas.so.3", RTLD_NOLOAD | RTLD_LAZY);
    if (!h) return 0;
    int is_openblas = dlsym(h, "openblas_get_config") != NULL;
    void *set = dlsym(h, "openblas_set_num_threads");
    if (set) ((void (*)(int))set)(1);
    dlclose(h);
    return is_openblas;
}
