// dconv.hpp - the detector's convolutions as direct AVX-512 kernels.
//
// OpenCV 4.6's dnn runs the detector's 5x5 convolutions at 6-19 GMAC/s on
// one core, its stride-2 layers with 3 and 16 input channels the slowest.
// A direct kernel over a channel-blocked layout (16 output channels to a
// vector register, each input value broadcast to all of them, a run of
// output pixels at a time, so that every load feeds several multiply-adds)
// runs the same layers at 12-66 GMAC/s (README, "Index"). Same weights, with
// each affine layer folded into the convolution before it; the results
// differ from dlib's own forward pass by float rounding (test_shim).
//
// Intermediate tensors are [channel block][row][column][16], with a zero
// border as wide as the next layer's padding; the first layer reads dlib's
// planar input tensor and the last one writes planar output.
#ifndef FA_SHIM_DCONV_HPP
#define FA_SHIM_DCONV_HPP

#include <memory>
#include <stdexcept>
#include <vector>

#include <dlib/dnn.h>

namespace fa {

// One convolution (with its folded affine layer and relu).
struct conv_spec {
    int C = 0, N = 0, K = 0, S = 1, P = 0;
    std::vector<float> w;   // N x C x K x K
    std::vector<float> b;   // N
    bool relu = false;
};

class direct_stack {
public:
    // True when the CPU has AVX-512F (the kernels' only requirement).
    static bool available();
    explicit direct_stack(std::vector<conv_spec> ops);
    // in: planar C x H x W (C the first layer's inputs); out: planar N x oh x ow
    // of the last layer. Throws std::runtime_error when the input is smaller
    // than the network's window.
    void forward(const float *in, int H, int W, std::vector<float> &out, int &oh, int &ow);

private:
    struct layer {
        conv_spec s;
        int nb;                    // output channel blocks of 16
        std::vector<float> wp, bp; // [nb][C][K][K][16], [nb * 16]
    };
    std::vector<layer> layers_;
    std::vector<float> buf_[2];
};

// Collects the convolutions of a dlib network that is a plain chain of
// con_, affine_ and relu_ layers over an input layer; anything else throws.
class stack_builder {
public:
    std::vector<conv_spec> ops;

    template <typename T>
    void walk(const T &) {}   // the input layer
    template <typename D, typename S, typename E>
    void walk(const dlib::add_layer<D, S, E> &n) {
        walk(n.subnet());
        add(n.layer_details());
    }

private:
    template <typename L>
    void add(const L &) { throw std::runtime_error("not a chain of convolutions"); }

    template <long N, long R, long C, int SY, int SX, int PY, int PX>
    void add(const dlib::con_<N, R, C, SY, SX, PY, PX> &l) {
        const dlib::tensor &p = l.get_layer_params();
        long nf = l.num_filters(), per = (long)p.size() / nf - (l.bias_is_disabled() ? 0 : 1);
        if (l.nr() != l.nc() || l.stride_y() != l.stride_x() || l.padding_y() != l.padding_x() ||
            per % (l.nr() * l.nc()) != 0)
            throw std::runtime_error("not a square convolution");
        conv_spec s;
        s.N = (int)nf; s.K = (int)l.nr(); s.S = (int)l.stride_y(); s.P = (int)l.padding_y();
        s.C = (int)(per / (l.nr() * l.nc()));
        if (!ops.empty() && ops.back().N != s.C) throw std::runtime_error("convolution inputs do not match");
        s.w.assign(p.host(), p.host() + nf * per);
        s.b.assign(nf, 0.0f);
        if (!l.bias_is_disabled()) s.b.assign(p.host() + nf * per, p.host() + nf * per + nf);
        ops.push_back(std::move(s));
    }
    void add(const dlib::affine_ &l) {
        auto gamma = l.get_gamma(), beta = l.get_beta();
        const dlib::tensor &g = gamma, &bt = beta;
        if (ops.empty() || ops.back().relu || g.size() != (size_t)ops.back().N)
            throw std::runtime_error("affine layer not after a convolution");
        conv_spec &s = ops.back();
        size_t per = (size_t)s.C * s.K * s.K;
        for (int n = 0; n < s.N; n++) {
            for (size_t k = 0; k < per; k++) s.w[n * per + k] *= g.host()[n];
            s.b[n] = s.b[n] * g.host()[n] + bt.host()[n];
        }
    }
    void add(const dlib::relu_ &) {
        if (ops.empty()) throw std::runtime_error("relu before any convolution");
        ops.back().relu = true;
    }
};

}  // namespace fa

#endif
