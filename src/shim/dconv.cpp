// dconv.cpp - direct AVX-512 convolutions for the detector (see dconv.hpp).
//
// The kernels carry target("avx512f") so the file builds for any x86-64 CPU;
// direct_stack::available() says whether they may run. They are not
// instrumented under the sanitizers (KERNEL): a check on each of their
// broadcast loads made the sanitizer run's indexing tests 2-3x slower
// (cli_interrupt 24 s -> 77 s). What they read and write lies inside
// buffers this file sizes, which stay instrumented, and test_shim compares
// their output with dlib's.
#include "dconv.hpp"

#include <algorithm>
#include <cstring>

#include <immintrin.h>

#define KERNEL __attribute__((target("avx512f"), no_sanitize_address, no_sanitize_undefined))

namespace fa {
namespace {

// Where a layer reads: element (c, y, x) is at base + coff[c] + y * ys + x * xs.
struct view {
    const float *base;
    const long *coff;
    long ys, xs;
};

// Where it writes: block b, row y, column x at base + b * bs + y * ys + x * 16.
struct sink {
    float *base;
    long bs, ys;
};

// B blocks of 16 output channels for R consecutive output pixels of one row:
// B x R accumulators; per input tap, B weight vectors and R broadcasts. The
// stride S and the input's column step XS (1 planar, 16 blocked) are
// constants, so each broadcast reads at a fixed offset (twice the speed of
// the first layer with them as variables).
template <int B, int R, int S, int XS>
KERNEL inline void tile(const view &in, const float *at, const conv_spec &s,
                                                    const float *wp, long wnb, const float *bias, float *out,
                                                    long obs) {
    __m512 acc[B][R];   // in registers only when every loop over B and R is unrolled:
                        // -O2 leaves them rolled (25 GMAC/s instead of 55-68)
#pragma GCC unroll 8
    for (int b = 0; b < B; b++) {
        __m512 bv = _mm512_loadu_ps(bias + 16 * b);
#pragma GCC unroll 32
        for (int r = 0; r < R; r++) acc[b][r] = bv;
    }
    const int K = s.K;
    for (int c = 0; c < s.C; c++) {
        const float *ic = at + in.coff[c];
        const float *wc = wp + (size_t)c * K * K * 16;
        for (int ky = 0; ky < K; ky++) {
            const float *row = ic + ky * in.ys;
            const float *wk = wc + (size_t)ky * K * 16;
            for (int kx = 0; kx < K; kx++) {
                __m512 w[B];
#pragma GCC unroll 8
                for (int b = 0; b < B; b++) w[b] = _mm512_loadu_ps(wk + b * wnb + kx * 16);
#pragma GCC unroll 32
                for (int r = 0; r < R; r++) {
                    __m512 x = _mm512_set1_ps(row[(r * S + kx) * XS]);
#pragma GCC unroll 8
                    for (int b = 0; b < B; b++) acc[b][r] = _mm512_fmadd_ps(w[b], x, acc[b][r]);
                }
            }
        }
    }
    const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 8
    for (int b = 0; b < B; b++)
#pragma GCC unroll 32
        for (int r = 0; r < R; r++) {
            __m512 v = acc[b][r];   // relu as a masked move (max_ps warns of an undefined operand)
            if (s.relu) v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ), v);
            _mm512_storeu_ps(out + b * obs + r * 16, v);
        }
}

// Runs of R pixels, then the row's remainder one pixel at a time.
template <int B, int R, int S, int XS>
KERNEL void rows(const view &in, const conv_spec &s, const float *wp, long wnb,
                                             const float *bias, const sink &out, int OH, int OW) {
    for (int oy = 0; oy < OH; oy++) {
        const float *irow = in.base + (long)oy * S * in.ys;
        float *orow = out.base + (long)oy * out.ys;
        int ox = 0;
        for (; ox + R <= OW; ox += R)
            tile<B, R, S, XS>(in, irow + (long)ox * S * XS, s, wp, wnb, bias, orow + ox * 16, out.bs);
        for (; ox < OW; ox++)
            tile<B, 1, S, XS>(in, irow + (long)ox * S * XS, s, wp, wnb, bias, orow + ox * 16, out.bs);
    }
}

// Three output blocks at a time (24 accumulators), then the rest.
template <int S, int XS>
void blocks(const view &in, const conv_spec &s, const float *wp, const float *bp, int nb, const sink &out,
            int OH, int OW) {
    const long wnb = (long)s.C * s.K * s.K * 16;
    for (int b0 = 0; b0 < nb;) {
        int left = nb - b0;
        sink o{out.base + b0 * out.bs, out.bs, out.ys};
        const float *w = wp + b0 * wnb, *b = bp + b0 * 16;
        if (left >= 3) { rows<3, 8, S, XS>(in, s, w, wnb, b, o, OH, OW); b0 += 3; }
        else if (left == 2) { rows<2, 12, S, XS>(in, s, w, wnb, b, o, OH, OW); b0 += 2; }
        else { rows<1, 16, S, XS>(in, s, w, wnb, b, o, OH, OW); b0 += 1; }
    }
}

void run_layer(const view &in, const conv_spec &s, const float *wp, const float *bp, int nb, const sink &out,
               int OH, int OW) {
    bool planar = in.xs == 1;
    if (s.S == 1) (planar ? blocks<1, 1> : blocks<1, 16>)(in, s, wp, bp, nb, out, OH, OW);
    else (planar ? blocks<2, 1> : blocks<2, 16>)(in, s, wp, bp, nb, out, OH, OW);
}

int out_size(int in, const conv_spec &s) { return (in + 2 * s.P - s.K) / s.S + 1; }

// Zeroes the border of width p of a blocked tensor of nb blocks of h x w.
void zero_border(float *t, int nb, int h, int w, int p) {
    if (!p) return;
    for (int b = 0; b < nb; b++) {
        float *blk = t + (size_t)b * h * w * 16;
        std::memset(blk, 0, (size_t)p * w * 16 * sizeof(float));
        std::memset(blk + (size_t)(h - p) * w * 16, 0, (size_t)p * w * 16 * sizeof(float));
        for (int y = p; y < h - p; y++) {
            std::memset(blk + (size_t)y * w * 16, 0, (size_t)p * 16 * sizeof(float));
            std::memset(blk + ((size_t)y * w + w - p) * 16, 0, (size_t)p * 16 * sizeof(float));
        }
    }
}

}  // namespace

bool direct_stack::available() {
    static const bool ok = __builtin_cpu_supports("avx512f");
    return ok;
}

direct_stack::direct_stack(std::vector<conv_spec> ops) {
    if (ops.empty()) throw std::runtime_error("no convolutions");
    for (conv_spec &s : ops) {
        if (s.S != 1 && s.S != 2) throw std::runtime_error("a stride other than 1 or 2");
        layer l;
        l.nb = (s.N + 15) / 16;
        size_t per = (size_t)s.K * s.K;
        l.wp.assign((size_t)l.nb * s.C * per * 16, 0.0f);
        l.bp.assign((size_t)l.nb * 16, 0.0f);
        for (int n = 0; n < s.N; n++) {
            l.bp[n] = s.b[n];
            for (int c = 0; c < s.C; c++)
                for (size_t k = 0; k < per; k++)
                    l.wp[(((size_t)(n / 16) * s.C + c) * per + k) * 16 + n % 16] = s.w[((size_t)n * s.C + c) * per + k];
        }
        l.s = std::move(s);
        layers_.push_back(std::move(l));
    }
}

void direct_stack::forward(const float *in, int H, int W, std::vector<float> &out, int &oh, int &ow) {
    // the first layer reads the planar input, padded in a copy if it pads
    const conv_spec &first = layers_[0].s;
    std::vector<long> coff(first.C);
    int h = H + 2 * first.P, w = W + 2 * first.P;
    const float *src = in;
    std::vector<float> padded;
    if (first.P) {
        padded.assign((size_t)first.C * h * w, 0.0f);
        for (int c = 0; c < first.C; c++)
            for (int y = 0; y < H; y++)
                std::memcpy(&padded[((size_t)c * h + y + first.P) * w + first.P], in + ((size_t)c * H + y) * W,
                            (size_t)W * sizeof(float));
        src = padded.data();
    }
    for (int c = 0; c < first.C; c++) coff[c] = (long)c * h * w;
    view v{src, coff.data(), w, 1};
    int ih = H, iw = W;   // the current input's size without its border
    for (size_t i = 0; i < layers_.size(); i++) {
        const layer &l = layers_[i];
        int OH = out_size(ih, l.s), OW = out_size(iw, l.s);
        if (OH < 1 || OW < 1) throw std::runtime_error("image smaller than the detector's window");
        int pn = i + 1 < layers_.size() ? layers_[i + 1].s.P : 0;
        int hp = OH + 2 * pn, wq = OW + 2 * pn;
        std::vector<float> &dst = buf_[i % 2];
        dst.resize((size_t)l.nb * hp * wq * 16);
        zero_border(dst.data(), l.nb, hp, wq, pn);   // the kernels write every inside value
        sink o{dst.data() + ((size_t)pn * wq + pn) * 16, (long)hp * wq * 16, (long)wq * 16};
        run_layer(v, l.s, l.wp.data(), l.bp.data(), l.nb, o, OH, OW);
        coff.resize((size_t)l.s.N);
        for (int c = 0; c < l.s.N; c++) coff[c] = (long)(c / 16) * hp * wq * 16 + c % 16;
        v = view{dst.data(), coff.data(), (long)wq * 16, 16};
        ih = OH; iw = OW;
    }
    // planar output of the last layer (no border: its padding is 0)
    const layer &last = layers_.back();
    oh = ih; ow = iw;
    out.resize((size_t)last.s.N * oh * ow);
    for (int c = 0; c < last.s.N; c++)
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++)
                out[((size_t)c * oh + y) * ow + x] = v.base[coff[c] + y * v.ys + x * 16];
}

}  // namespace fa
