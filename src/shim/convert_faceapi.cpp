// convert_faceapi.cpp - rebuilds dlib's face-recognition ResNet from the
// TF.js weights of @vladmandic/face-api (face_recognition_model.bin and its
// weights manifest) and serializes it as a .dat that dlib's deserialize()
// loads like dlib_face_recognition_resnet_model_v1.dat.
//
// The mapping is documented in shared/notes/resnet-weights.md: tensors lie
// back to back in manifest order; uint8-quantized ones are q * scale + min;
// conv filters go from TF [H][W][IN][OUT] to dlib [OUT][IN][H][W] + biases;
// "scale" tensors are the affine_ layers' gamma and beta; "fc" copies
// straight into fc_no_bias. Walking dlib's computational layers from the
// input side lines up one to one with the manifest. The manifest is read
// with nlohmann-json.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "resnet.hpp"
#include "shim.h"

namespace {

// ---------------------------------------------------------------------------
// The manifest: a list of tensors with where they lie in the .bin.
// ---------------------------------------------------------------------------
struct Tensor {
    std::string name;
    std::vector<long> shape;
    bool quantized = false;     // uint8: value = q * scale + min
    double scale = 0, min = 0;
    size_t offset = 0, bytes = 0;
    size_t count() const {
        size_t n = 1;
        for (long d : shape) n *= (size_t)d;
        return n;
    }
};

struct ConvertError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

[[noreturn]] void bad(const std::string &what) { throw ConvertError(what); }

std::string read_file(const char *path, const char *what) {
    FILE *f = fopen(path, "rb");
    if (!f) bad(std::string("cannot open ") + what + " " + path + ": " + strerror(errno));
    std::string data;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, n);
    bool err = ferror(f);
    fclose(f);
    if (err) bad(std::string("cannot read ") + what + " " + path);
    return data;
}

using Json = nlohmann::json;

// The member key of object o, of the kind is_kind checks, or an error
// naming the tensor.
const Json &member(const Json &o, const char *key, bool (Json::*is_kind)() const noexcept,
                   const std::string &ctx) {
    auto it = o.is_object() ? o.find(key) : o.end();
    if (!o.is_object() || it == o.end() || !((*it).*is_kind)())
        bad("manifest: " + ctx + ": missing or mistyped \"" + key + "\"");
    return *it;
}

void parse_quantization(const Json &w, Tensor &t) {
    auto q = w.find("quantization");
    if (q == w.end()) return;
    if (!q->is_object()) bad("manifest: " + t.name + ": quantization is not an object");
    if (member(*q, "dtype", &Json::is_string, t.name).get<std::string>() != "uint8")
        bad("manifest: " + t.name + ": only uint8 quantization is supported");
    t.quantized = true;
    t.scale = member(*q, "scale", &Json::is_number, t.name).get<double>();
    t.min = member(*q, "min", &Json::is_number, t.name).get<double>();
}

Tensor parse_tensor(const Json &w, size_t offset) {
    Tensor t;
    t.name = member(w, "name", &Json::is_string, "weight entry").get<std::string>();
    if (member(w, "dtype", &Json::is_string, t.name).get<std::string>() != "float32")
        bad("manifest: " + t.name + ": dtype must be float32");
    for (const Json &d : member(w, "shape", &Json::is_array, t.name)) {
        double v = d.is_number() ? d.get<double>() : 0;
        if (v < 1 || v > 65536 || v != std::floor(v)) bad("manifest: " + t.name + ": bad shape entry");
        t.shape.push_back((long)v);
    }
    if (t.shape.empty() || t.shape.size() > 4) bad("manifest: " + t.name + ": bad shape rank");
    parse_quantization(w, t);
    t.offset = offset;
    t.bytes = t.count() * (t.quantized ? 1 : 4);
    return t;
}

// All tensors of all groups, in order; checks they exactly fill the .bin.
// The JSON itself is nlohmann-json's (strict RFC 8259; its messages name
// the byte where parsing stopped).
std::vector<Tensor> parse_manifest(const std::string &text, size_t bin_size) {
    Json root;
    try {
        root = Json::parse(text);
    } catch (const Json::exception &e) {  // parse_error, or out_of_range for a number overflow
        bad(std::string("manifest: JSON error: ") + e.what());
    }
    if (!root.is_array() || root.empty())
        bad("manifest: expected a non-empty array of weight groups");
    std::vector<Tensor> out;
    size_t offset = 0;
    for (const Json &group : root)
        for (const Json &w : member(group, "weights", &Json::is_array, "weight group")) {
            out.push_back(parse_tensor(w, offset));
            offset += out.back().bytes;
        }
    if (offset != bin_size)
        bad("weights: the manifest describes " + std::to_string(offset) +
            " bytes but the .bin file has " + std::to_string(bin_size));
    return out;
}

// The tensor's values as floats, dequantized when needed.
std::vector<float> values(const Tensor &t, const std::string &bin) {
    std::vector<float> v(t.count());
    const unsigned char *p = (const unsigned char *)bin.data() + t.offset;
    for (size_t i = 0; i < v.size(); i++) {
        if (t.quantized) v[i] = (float)(p[i] * t.scale + t.min);
        else memcpy(&v[i], p + 4 * i, 4);  // TF.js writes little-endian float32
    }
    return v;
}

// ---------------------------------------------------------------------------
// Filling the network.
// ---------------------------------------------------------------------------
std::string shape_str(const std::vector<long> &s) {
    std::string out = "[";
    for (size_t i = 0; i < s.size(); i++) out += (i ? "," : "") + std::to_string(s[i]);
    return out + "]";
}

bool ends_with(const std::string &s, const char *suffix) {
    size_t n = strlen(suffix);
    return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

// Hands out the manifest's tensors in order, checking names and shapes.
class TensorStream {
public:
    TensorStream(const std::vector<Tensor> &ts, const std::string &bin) : ts_(ts), bin_(bin) {}

    std::vector<float> next(const char *suffix, const std::vector<long> &shape) {
        if (i_ >= ts_.size()) bad("manifest: fewer tensors than the network has parameters");
        const Tensor &t = ts_[i_++];
        if (!ends_with(t.name, suffix))
            bad("manifest: tensor " + t.name + " found where *" + suffix + " was expected");
        if (t.shape != shape)
            bad("manifest: tensor " + t.name + " has shape " + shape_str(t.shape) +
                ", the network needs " + shape_str(shape));
        return values(t, bin_);
    }
    bool done() const { return i_ == ts_.size(); }

private:
    const std::vector<Tensor> &ts_;
    const std::string &bin_;
    size_t i_ = 0;
};

template <long NF, long NR, long NC, int SY, int SX, int PY, int PX>
void fill(dlib::con_<NF, NR, NC, SY, SX, PY, PX> &l, TensorStream &ts) {
    dlib::tensor &p = l.get_layer_params();
    const long out = l.num_filters(), h = l.nr(), w = l.nc();
    const long in = (long)(p.size() - out) / (out * h * w);
    std::vector<float> f = ts.next("/conv/filters", {h, w, in, out});
    std::vector<float> b = ts.next("/conv/bias", {out});
    float *dst = p.host();
    for (long o = 0; o < out; o++)
        for (long i = 0; i < in; i++)
            for (long y = 0; y < h; y++)
                for (long x = 0; x < w; x++)
                    dst[((o * in + i) * h + y) * w + x] = f[((y * w + x) * in + i) * out + o];
    std::copy(b.begin(), b.end(), dst + out * in * h * w);
}

void fill(dlib::affine_ &l, TensorStream &ts) {
    auto g = l.get_gamma();
    auto b = l.get_beta();
    std::vector<float> gv = ts.next("/scale/weights", {(long)g.size()});
    std::vector<float> bv = ts.next("/scale/biases", {(long)b.size()});
    std::copy(gv.begin(), gv.end(), g.host());
    std::copy(bv.begin(), bv.end(), b.host());
}

template <unsigned long N>
void fill(dlib::fc_<N, dlib::FC_NO_BIAS> &l, TensorStream &ts) {
    dlib::tensor &p = l.get_layer_params();
    std::vector<float> v = ts.next("fc", {(long)(p.size() / N), (long)N});
    std::copy(v.begin(), v.end(), p.host());
}

// Layers without parameters (relu, pooling, add_prev, ...) take nothing.
template <typename L>
void fill(L &, TensorStream &) {}

// Visitors see the layers output-first; collect them so that they can be
// filled input-first, the manifest's order.
using Filler = std::function<void(TensorStream &)>;

std::vector<Filler> layers_input_first(fa::anet_type &net) {
    std::vector<Filler> out;
    dlib::visit_computational_layers(net, [&](auto &l) {
        out.push_back([&l](TensorStream &ts) { fill(l, ts); });
    });
    std::reverse(out.begin(), out.end());
    return out;
}

// affine_ defaults to FC mode (one gamma per value); face-api's scales are
// per channel, which is CONV mode. Must be set before setup allocates them.
void set_conv_mode(fa::anet_type &net) {
    dlib::visit_computational_layers(net, [](auto &l) {
        if constexpr (std::is_same_v<std::decay_t<decltype(l)>, dlib::affine_>)
            l = dlib::affine_(dlib::CONV_MODE);
    });
}

void build(const std::vector<Tensor> &tensors, const std::string &bin, fa::anet_type &net) {
    set_conv_mode(net);
    // One forward pass lets every layer allocate its parameters.
    dlib::matrix<dlib::rgb_pixel> blank(150, 150);
    blank = dlib::rgb_pixel(0, 0, 0);
    net(blank);
    TensorStream ts(tensors, bin);
    for (Filler &f : layers_input_first(net)) f(ts);
    if (!ts.done()) bad("manifest: more tensors than the network has parameters");
}

// Writes a temporary file next to out_dat and renames it into place, so a
// failed conversion never leaves a truncated model behind.
void write_atomically(fa::anet_type &net, const char *out_dat) {
    std::string tmp = std::string(out_dat) + ".tmp";
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) bad("cannot create " + tmp + ": " + strerror(errno));
    dlib::serialize(net, out);
    out.close();
    if (!out) {
        remove(tmp.c_str());
        bad("cannot write " + tmp);
    }
    if (rename(tmp.c_str(), out_dat) != 0) {
        int e = errno;
        remove(tmp.c_str());
        bad(std::string("cannot rename to ") + out_dat + ": " + strerror(e));
    }
}

void convert(const char *manifest_json, const char *weights_bin, const char *out_dat) {
    std::string text = read_file(manifest_json, "manifest");
    std::string bin = read_file(weights_bin, "weights");
    std::vector<Tensor> tensors;
    try {
        tensors = parse_manifest(text, bin.size());
    } catch (const ConvertError &e) {
        bad(std::string(manifest_json) + ": " + e.what());  // the message names the file
    }
    auto net = std::make_unique<fa::anet_type>();
    build(tensors, bin, *net);
    write_atomically(*net, out_dat);
}

}  // namespace

extern "C" int fa_convert_faceapi(const char *manifest_json, const char *weights_bin,
                                  const char *out_dat)
{
    try {
        convert(manifest_json, weights_bin, out_dat);
        return 0;
    } catch (const std::exception &e) {
        return fa_error("fa_convert_faceapi: %s", e.what());
    } catch (...) {
        return fa_error("fa_convert_faceapi: unknown error");
    }
}
