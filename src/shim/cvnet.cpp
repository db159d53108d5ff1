// cvnet.cpp - translates a loaded dlib network into an OpenCV dnn::Net,
// layer by layer (convolution, affine, relu, pooling, fully connected,
// tags, skips and add_prev), and runs the detector and the encoder on it.
// See cvnet.hpp for why.
#include "cvnet.hpp"
#include "dconv.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/dnn/shape_utils.hpp>
#include <opencv2/imgproc.hpp>

namespace fa {
namespace {

struct shape {
    int c, h, w;
};

// Output size of a convolution or pooling window along one axis, as dlib
// computes it (floor).
int out_size(int in, long window, long stride, long pad) {
    return 1 + (int)((in + 2 * pad - window) / stride);
}

cv::Mat tensor_mat(const float *data, std::vector<int> dims) {
    cv::Mat m((int)dims.size(), dims.data(), CV_32F);
    std::copy(data, data + m.total(), (float *)m.data);
    return m;
}

// Walks a dlib network from its input to its output and adds the matching OpenCV layer for each, tracking shapes so that
// add_prev's zero padding of a smaller operand can be reproduced.
class translator {
public:
    translator(cv::dnn::Net &net, shape in) : net_(net) { shapes_[0] = in; }

    // Each layer after its subnet, recursively (linear in the depth, where
    // dlib's visit_layers instantiates layer<i> for every i: quadratic, and
    // minutes of compile time under the sanitizers). The input layer adds
    // nothing; the loss layer neither.
    template <typename T>
    void walk(const T &) {}
    template <typename L, typename S>
    void walk(const dlib::add_loss_layer<L, S> &n) { walk(n.subnet()); }
    template <unsigned long ID, typename S, typename E>
    void walk(const dlib::add_tag_layer<ID, S, E> &n) {
        walk(n.subnet());
        tags_[ID] = cur_;
    }
    template <template <typename> class TAG, typename S>
    void walk(const dlib::add_skip_layer<TAG, S> &n) {
        walk(n.subnet());
        cur_ = tag(dlib::tag_id<TAG>::id);
    }
    template <typename D, typename S, typename E>
    void walk(const dlib::add_layer<D, S, E> &n) {
        walk(n.subnet());
        add(n.layer_details());
    }

private:
    cv::dnn::Net &net_;
    int cur_ = 0;  // OpenCV's id of the network input
    int count_ = 0;
    std::map<int, shape> shapes_;
    std::map<unsigned long, int> tags_;

    int push(const std::string &type, cv::dnn::LayerParams &lp, shape s, std::vector<int> inputs) {
        lp.type = type;
        lp.name = type + std::to_string(count_++);
        int id = net_.addLayer(lp.name, type, lp);
        for (size_t i = 0; i < inputs.size(); i++) net_.connect(inputs[i], 0, id, (int)i);
        shapes_[id] = s;
        return cur_ = id;
    }
    shape cur_shape() const { return shapes_.at(cur_); }
    // By value: tag_id<>::id is declared but not defined, so it must not be
    // bound to a reference (map::at's parameter).
    int tag(unsigned long id) const { return tags_.at(id); }

    template <long N, long R, long C, int SY, int SX, int PY, int PX>
    void add(const dlib::con_<N, R, C, SY, SX, PY, PX> &l) {
        const dlib::tensor &p = l.get_layer_params();
        long nf = l.num_filters(), per = p.size() / nf - (l.bias_is_disabled() ? 0 : 1);
        shape s = cur_shape();
        if (per != s.c * l.nr() * l.nc()) throw std::runtime_error("convolution weights do not match its input");
        cv::dnn::LayerParams lp;
        lp.set("kernel_h", (int)l.nr()); lp.set("kernel_w", (int)l.nc());
        lp.set("stride_h", (int)l.stride_y()); lp.set("stride_w", (int)l.stride_x());
        lp.set("pad_h", (int)l.padding_y()); lp.set("pad_w", (int)l.padding_x());
        lp.set("num_output", (int)nf);
        lp.set("bias_term", !l.bias_is_disabled());
        lp.blobs.push_back(tensor_mat(p.host(), {(int)nf, s.c, (int)l.nr(), (int)l.nc()}));
        if (!l.bias_is_disabled()) lp.blobs.push_back(tensor_mat(p.host() + nf * per, {1, (int)nf}));
        shape o{(int)nf, out_size(s.h, l.nr(), l.stride_y(), l.padding_y()),
                out_size(s.w, l.nc(), l.stride_x(), l.padding_x())};
        push("Convolution", lp, o, {cur_});
    }

    // Per-channel scale and shift; OpenCV folds it into the convolution before.
    void add(const dlib::affine_ &l) {
        auto gamma = l.get_gamma(), beta = l.get_beta();  // aliases into the layer's parameters
        const dlib::tensor &g = gamma, &b = beta;
        shape s = cur_shape();
        if (g.size() != (size_t)s.c) throw std::runtime_error("affine layer does not match its input");
        cv::dnn::LayerParams lp;
        lp.set("bias_term", true);
        lp.blobs.push_back(tensor_mat(g.host(), {1, s.c}));
        lp.blobs.push_back(tensor_mat(b.host(), {1, s.c}));
        push("Scale", lp, s, {cur_});
    }

    void add(const dlib::relu_ &) {
        cv::dnn::LayerParams lp;
        push("ReLU", lp, cur_shape(), {cur_});
    }

    template <typename POOL>
    void pool(const POOL &l, const char *kind) {
        shape s = cur_shape();
        cv::dnn::LayerParams lp;
        lp.set("pool", kind);
        lp.set("ceil_mode", false);
        if (l.nr() == 0 && l.nc() == 0) {  // dlib's avg_pool_everything
            lp.set("global_pooling", true);
            push("Pooling", lp, {s.c, 1, 1}, {cur_});
            return;
        }
        lp.set("kernel_h", (int)l.nr()); lp.set("kernel_w", (int)l.nc());
        lp.set("stride_h", (int)l.stride_y()); lp.set("stride_w", (int)l.stride_x());
        lp.set("pad_h", (int)l.padding_y()); lp.set("pad_w", (int)l.padding_x());
        push("Pooling", lp, {s.c, out_size(s.h, l.nr(), l.stride_y(), l.padding_y()),
                             out_size(s.w, l.nc(), l.stride_x(), l.padding_x())}, {cur_});
    }
    template <long R, long C, int SY, int SX, int PY, int PX>
    void add(const dlib::max_pool_<R, C, SY, SX, PY, PX> &l) { pool(l, "max"); }
    template <long R, long C, int SY, int SX, int PY, int PX>
    void add(const dlib::avg_pool_<R, C, SY, SX, PY, PX> &l) { pool(l, "ave"); }

    // dlib stores the weights as inputs x outputs; OpenCV wants outputs x inputs.
    template <unsigned long N, dlib::fc_bias_mode B>
    void add(const dlib::fc_<N, B> &l) {
        shape s = cur_shape();
        long in = (long)s.c * s.h * s.w, out = (long)l.get_num_outputs();
        const dlib::tensor &p = l.get_layer_params();
        bool bias = p.size() == (size_t)((in + 1) * out);
        if (!bias && p.size() != (size_t)(in * out)) throw std::runtime_error("fc weights do not match its input");
        cv::Mat w(std::vector<int>{(int)out, (int)in}, CV_32F);
        for (long i = 0; i < in; i++)
            for (long o = 0; o < out; o++) w.at<float>((int)o, (int)i) = p.host()[i * out + o];
        cv::dnn::LayerParams lp;
        lp.set("num_output", (int)out);
        lp.set("bias_term", bias);
        lp.set("axis", 1);
        lp.blobs.push_back(w);
        if (bias) lp.blobs.push_back(tensor_mat(p.host() + in * out, {1, (int)out}));
        push("InnerProduct", lp, {(int)out, 1, 1}, {cur_});
    }

    // dlib adds tensors of different shapes by zero-padding the smaller one
    // at the end of each axis (channels, rows, columns); OpenCV's sum needs
    // equal shapes, so the padding is made explicit.
    int padded_to(int id, shape to) {
        shape s = shapes_.at(id);
        if (s.c == to.c && s.h == to.h && s.w == to.w) return id;
        cv::dnn::LayerParams lp;
        std::vector<int> pads = {0, 0, 0, to.c - s.c, 0, to.h - s.h, 0, to.w - s.w};
        lp.set("paddings", cv::dnn::DictValue::arrayInt(pads.data(), (int)pads.size()));
        lp.set("value", 0.0);
        int keep = cur_;
        int p = push("Padding", lp, to, {id});
        cur_ = keep;
        return p;
    }
    template <template <typename> class TAG>
    void add(const dlib::add_prev_<TAG> &) {
        int a = cur_, b = tag(dlib::tag_id<TAG>::id);
        shape sa = shapes_.at(a), sb = shapes_.at(b);
        shape o{std::max(sa.c, sb.c), std::max(sa.h, sb.h), std::max(sa.w, sb.w)};
        a = padded_to(a, o);
        b = padded_to(b, o);
        cv::dnn::LayerParams lp;
        lp.set("operation", "sum");
        push("Eltwise", lp, o, {a, b});
    }
};

template <typename NET>
cv::dnn::Net translate(const NET &net, shape in) {
    cv::dnn::Net out;
    translator t(out, in);
    t.walk(net);
    out.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    out.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    return out;
}

cv::Mat blob_of(const dlib::tensor &x) {
    int dims[4] = {(int)x.num_samples(), (int)x.k(), (int)x.nr(), (int)x.nc()};
    return cv::Mat(4, dims, CV_32F, const_cast<float *>(x.host()));
}

}  // namespace

// --- detector -------------------------------------------------------------------

// The detector's last layer, a 9x9 convolution to one score map, is 8x
// slower in OpenCV's dnn (built for many outputs) than as one filter2D per
// input channel, summed (measured 117 against 14 ms on a 1024 px photo); dlib
// pads it with zeros to keep the size, as BORDER_CONSTANT does.
struct cv_detector::impl {
    cv::dnn::Net net;              // input to the last layer's input
    std::unique_ptr<direct_stack> direct;   // the same on AVX-512 kernels (NULL: none)
    std::vector<float> feat;
    std::vector<cv::Mat> kernels;  // the last layer: one kernel per input channel
    float bias = 0;
    dlib::resizable_tensor x;
    double gflop = 0;
    // getFLOPS runs OpenCV's shape inference over the whole network: done
    // once per input size (a pyramid has a few), not once per image.
    std::map<cv::dnn::MatShape, double> net_gflop;

    double gflop_of(const cv::dnn::MatShape &shape) {
        auto it = net_gflop.find(shape);
        if (it == net_gflop.end()) it = net_gflop.emplace(shape, net.getFLOPS(shape) / 1e9).first;
        return it->second;
    }

    cv::Mat forward(const dlib::tensor &in, bool use_direct) {
        cv::Mat blob = blob_of(in), features;
        const float *planar;
        int h, w;
        if (direct && use_direct) {
            direct->forward(in.host(), (int)in.nr(), (int)in.nc(), feat, h, w);
            planar = feat.data();
        } else {
            net.setInput(blob);
            features = net.forward();
            h = features.size[2], w = features.size[3];
            planar = features.ptr<float>(0, 0);
        }
        gflop += gflop_of(cv::dnn::shape(blob)) + 2.0 * h * w * kernels.size() * kernels[0].total() / 1e9;
        cv::Mat score(h, w, CV_32F, cv::Scalar(bias)), one;
        for (size_t c = 0; c < kernels.size(); c++) {
            cv::Mat channel(h, w, CV_32F, const_cast<float *>(planar + (size_t)c * h * w));
            cv::filter2D(channel, one, CV_32F, kernels[c], cv::Point(-1, -1), 0, cv::BORDER_CONSTANT);
            score += one;
        }
        return score;
    }
};

cv_detector::cv_detector(const det_net_type &det) : p_(new impl) {
    const auto &last = det.subnet().layer_details();
    p_->net = translate(det.subnet().subnet(), {3, 0, 0});
    const dlib::tensor &w = last.get_layer_params();
    long k = last.nr() * last.nc(), channels = (w.size() - 1) / k;
    if (last.num_filters() != 1 || last.bias_is_disabled() || last.stride_y() != 1 || last.stride_x() != 1 || (size_t)(channels * k + 1) != w.size() ||
        last.padding_y() != last.nr() / 2 || last.padding_x() != last.nc() / 2)
        throw std::runtime_error("the detector's last layer is not a same-size convolution to one score map");
    for (long c = 0; c < channels; c++)
        p_->kernels.push_back(cv::Mat((int)last.nr(), (int)last.nc(), CV_32F, (void *)(w.host() + c * k)).clone());
    p_->bias = w.host()[channels * k];
    // FACEAUDIT_NO_DIRECT_CONV=1: OpenCV's dnn for every layer (to compare)
    const char *off = getenv("FACEAUDIT_NO_DIRECT_CONV");
    try {   // a network the kernels do not cover stays on OpenCV's dnn
        stack_builder b;
        b.walk(det.subnet().subnet());
        if (direct_stack::available() && !(off && *off && strcmp(off, "0") != 0) && !b.ops.empty() &&
            b.ops[0].C == 3 && b.ops.back().N == (int)channels)
            p_->direct = std::make_unique<direct_stack>(std::move(b.ops));
    } catch (const std::runtime_error &) {
    }
}

cv_detector::~cv_detector() = default;

double cv_detector::gflop() const { return p_->gflop; }

// dlib's loss_mmod_::to_label, on OpenCV's output: every position scoring
// above 0 is a detector window centred on the input point it maps to,
// strongest first, then non-maximum suppression.
std::vector<dlib::mmod_rect> cv_detector::operator()(const det_net_type &det,
                                                     const dlib::matrix<dlib::rgb_pixel> &img, bool direct) {
    det.to_tensor(&img, &img + 1, p_->x);
    cv::Mat score = p_->forward(p_->x, direct);
    const dlib::mmod_options &opt = det.loss_details().get_options();
    if (opt.detector_windows.size() != 1) throw std::runtime_error("the detector has more than one window");
    const dlib::mmod_options::detector_window_details &window = opt.detector_windows[0];
    struct candidate {
        dlib::rectangle rect;
        double score;
        bool operator<(const candidate &o) const { return score < o.score; }
    };
    std::vector<candidate> found;
    for (int r = 0; r < score.rows; r++)
        for (int c = 0; c < score.cols; c++) {
            double s = score.at<float>(r, c);
            if (s <= 0) continue;
            dlib::dpoint pt = dlib::output_tensor_to_input_tensor(det.subnet(), dlib::point(c, r));
            dlib::drectangle rect = dlib::centered_drect(pt, window.width, window.height);
            found.push_back({dlib::input_layer(det).tensor_space_to_image_space(p_->x, rect), s});
        }
    std::sort(found.rbegin(), found.rend());
    std::vector<dlib::mmod_rect> dets;
    for (const candidate &f : found) {
        bool overlaps = false;
        for (const dlib::mmod_rect &d : dets) overlaps = overlaps || opt.overlaps_nms(d.rect, f.rect);
        if (!overlaps) dets.push_back(dlib::mmod_rect(f.rect, f.score, window.label));
    }
    return dets;
}

// --- encoder --------------------------------------------------------------------

struct cv_encoder::impl {
    cv::dnn::Net net;
    dlib::resizable_tensor x;
    double gflop_per_chip = 0, gflop = 0;
};

cv_encoder::cv_encoder(const anet_type &enc) : p_(new impl) {
    p_->net = translate(enc, {3, 150, 150});
    p_->gflop_per_chip = p_->net.getFLOPS(cv::dnn::MatShape{1, 3, 150, 150}) / 1e9;
}

cv_encoder::~cv_encoder() = default;

double cv_encoder::gflop() const { return p_->gflop; }

std::vector<dlib::matrix<float, 0, 1>> cv_encoder::operator()(const anet_type &enc,
                                                              const std::vector<dlib::matrix<dlib::rgb_pixel>> &chips,
                                                              size_t batch) {
    std::vector<dlib::matrix<float, 0, 1>> out;
    for (size_t i = 0; i < chips.size(); i += batch) {
        size_t n = std::min(batch, chips.size() - i);
        enc.to_tensor(chips.begin() + i, chips.begin() + i + n, p_->x);
        p_->net.setInput(blob_of(p_->x));
        cv::Mat y = p_->net.forward();
        p_->gflop += n * p_->gflop_per_chip;
        size_t dim = y.total() / n;
        for (size_t j = 0; j < n; j++) {
            dlib::matrix<float, 0, 1> v((long)dim);
            std::copy((const float *)y.data + j * dim, (const float *)y.data + (j + 1) * dim, v.begin());
            out.push_back(std::move(v));
        }
    }
    return out;
}

}  // namespace fa
