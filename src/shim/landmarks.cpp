// landmarks.cpp - reads dlib's shape predictor files (the 99 MB 68-point
// landmark model: 16 million numbers) in a fraction of dlib::deserialize's
// time, which goes on a virtual stream call per number. Same format, parsed
// from one buffer, into the same members: anything the parser does not
// expect falls back to dlib's reader, and test_shim checks that both give
// byte-identical models.
#include "landmarks.hpp"

#include <dlib/opencv.h>
#include <opencv2/core.hpp>

#include <cmath>
#include <cstring>
#include <random>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace fa {
namespace {

// shape_predictor's members are private and it has no constructor taking
// them as stored (the public one recomputes two of them from pixel
// coordinates, with float rounding). An explicit template instantiation may
// name private members; this is the standard way to reach them.
template <typename Tag, typename Tag::type M>
struct grant {
    friend typename Tag::type member(Tag) { return M; }
};
#define FA_MEMBER(tag, T, name)                                           \
    struct tag {                                                          \
        using type = T dlib::shape_predictor::*;                          \
        friend type member(tag);                                          \
    };                                                                    \
    template struct grant<tag, &dlib::shape_predictor::name>;
using shape_t = dlib::matrix<float, 0, 1>;
using forests_t = std::vector<std::vector<dlib::impl::regression_tree>>;
using anchors_t = std::vector<std::vector<unsigned long>>;
using deltas_t = std::vector<std::vector<dlib::vector<float, 2>>>;
FA_MEMBER(initial_tag, shape_t, initial_shape)
FA_MEMBER(forests_tag, forests_t, forests)
FA_MEMBER(anchor_tag, anchors_t, anchor_idx)
FA_MEMBER(deltas_tag, deltas_t, deltas)
#undef FA_MEMBER

struct parse_error {};

// dlib's serialization: an integer is a control byte (its byte count in the
// low 4 bits, 0x80 when negative) and that many little-endian bytes; a float
// is two integers, mantissa and exponent; a vector its size, then items; a
// matrix -rows, -columns, then items.
class reader {
public:
    reader(const unsigned char *p, const unsigned char *end) : p_(p), end_(end) {}

    int64_t integer(bool is_signed = true) {
        if (p_ >= end_) throw parse_error();
        unsigned c = *p_++, n = c & 0x0F;
        bool negative = c & 0x80;
        if ((c & 0x70) || n == 0 || n > 8 || (negative && !is_signed) || end_ - p_ < (long)n) throw parse_error();
        uint64_t v = 0;
        for (unsigned i = n; i-- > 0;) v = v << 8 | p_[i];
        p_ += n;
        if (v > (uint64_t)std::numeric_limits<int64_t>::max()) throw parse_error();
        return negative ? -(int64_t)v : (int64_t)v;
    }
    unsigned long count() { return (unsigned long)integer(false); }

    float number() {
        int64_t mantissa = integer();
        int64_t exponent = integer();
        if (exponent < -32768 || exponent > 32767) throw parse_error();
        if (exponent < 32000) return std::ldexp((float)mantissa, (int)exponent);
        if (exponent == 32000) return std::numeric_limits<float>::infinity();
        if (exponent == 32001) return -std::numeric_limits<float>::infinity();
        return std::numeric_limits<float>::quiet_NaN();
    }

    // A count of items that are each at least min_bytes long, checked against
    // what is left, so a damaged count cannot ask for gigabytes.
    unsigned long items(size_t min_bytes) {
        unsigned long n = count();
        if (n > (unsigned long)(end_ - p_) / min_bytes) throw parse_error();
        return n;
    }

    void column(dlib::matrix<float, 0, 1> &m) {
        int64_t nr = integer(), nc = integer();
        if (nr < 0) nr = -nr;
        if (nc < 0) nc = -nc;
        if (nc != 1 || nr > (end_ - p_) / 2) throw parse_error();
        m.set_size(nr);
        for (long i = 0; i < nr; i++) m(i) = number();
    }

    bool done() const { return p_ == end_; }

private:
    const unsigned char *p_, *end_;
};

void parse(reader &in, dlib::shape_predictor &sp) {
    if (in.integer() != 1) throw parse_error();  // the format's version
    in.column(sp.*member(initial_tag()));
    auto &forests = sp.*member(forests_tag());
    forests.resize(in.items(1));
    for (auto &forest : forests) {
        forest.resize(in.items(2));
        for (auto &tree : forest) {
            tree.splits.resize(in.items(6));
            for (auto &s : tree.splits) {
                s.idx1 = in.count();
                s.idx2 = in.count();
                s.thresh = in.number();
            }
            tree.leaf_values.resize(in.items(4));
            for (auto &leaf : tree.leaf_values) in.column(leaf);
        }
    }
    auto &anchors = sp.*member(anchor_tag());
    anchors.resize(in.items(1));
    for (auto &a : anchors) {
        a.resize(in.items(2));
        for (auto &i : a) i = in.count();
    }
    auto &deltas = sp.*member(deltas_tag());
    deltas.resize(in.items(1));
    for (auto &d : deltas) {
        d.resize(in.items(4));
        for (auto &v : d) {
            v.x() = in.number();
            v.y() = in.number();
        }
    }
    if (!in.done()) throw parse_error();
}

// What shape_predictor::operator() indexes with, checked so that a damaged
// model is refused instead of read out of bounds (dlib does not check).
void validate(dlib::shape_predictor &sp) {
    const auto &shape = sp.*member(initial_tag());
    const auto &forests = sp.*member(forests_tag());
    const auto &anchors = sp.*member(anchor_tag());
    const auto &deltas = sp.*member(deltas_tag());
    long parts = shape.size() / 2;
    bool ok = shape.size() % 2 == 0 && anchors.size() == forests.size() && deltas.size() == forests.size();
    for (size_t i = 0; ok && i < forests.size(); i++) {
        ok = deltas[i].size() == anchors[i].size();
        for (unsigned long a : anchors[i]) ok = ok && a < (unsigned long)parts;
        for (const auto &tree : forests[i]) {
            ok = ok && tree.leaf_values.size() == tree.splits.size() + 1;
            for (const auto &s : tree.splits) ok = ok && s.idx1 < anchors[i].size() && s.idx2 < anchors[i].size();
            for (const auto &leaf : tree.leaf_values) ok = ok && leaf.size() == shape.size();
        }
    }
    if (!ok) throw std::runtime_error("the model's trees point outside its shape (damaged file?)");
}

}  // namespace

std::shared_ptr<dlib::shape_predictor> read_shape_predictor(const std::string &path) {
    std::vector<unsigned char> bytes;
    {
        std::ifstream f(path, std::ios::binary | std::ios::ate);
        if (f) {
            bytes.resize((size_t)f.tellg());
            f.seekg(0);
            if (!f.read((char *)bytes.data(), (std::streamsize)bytes.size())) bytes.clear();
        }
    }
    auto sp = std::make_shared<dlib::shape_predictor>();
    try {
        reader in(bytes.data(), bytes.data() + bytes.size());
        parse(in, *sp);
    } catch (const parse_error &) {
        // Not what the parser expects (or not readable): dlib's own reader,
        // with its own messages.
        sp = std::make_shared<dlib::shape_predictor>();
        dlib::deserialize(path) >> *sp;
    }
    validate(*sp);
    return sp;
}

bool same_as_dlib(const std::string &path) {
    dlib::shape_predictor theirs;
    dlib::deserialize(path) >> theirs;
    std::ostringstream a, b;
    dlib::serialize(theirs, a);
    dlib::serialize(*read_shape_predictor(path), b);
    return a.str() == b.str();
}

landmark_model::landmark_model(dlib::shape_predictor &&sp) {
    initial_ = sp.*member(initial_tag());
    anchors_ = std::move(sp.*member(anchor_tag()));
    deltas_ = std::move(sp.*member(deltas_tag()));
    forests_t forests = std::move(sp.*member(forests_tag()));
    const size_t dim = (size_t)initial_.size();
    size_t n_splits = 0, n_leaves = 0;
    for (const auto &forest : forests)
        for (const auto &t : forest) n_splits += t.splits.size(), n_leaves += t.leaf_values.size();
    splits_.reserve(n_splits);
    leaves_.reserve(n_leaves * dim);
    for (auto &forest : forests) {
        std::vector<tree> trees;
        for (auto &t : forest) {
            trees.push_back({splits_.size(), t.splits.size(), leaves_.size()});
            for (const auto &s : t.splits) splits_.push_back({s.idx1, s.idx2, s.thresh});
            for (const auto &leaf : t.leaf_values) leaves_.insert(leaves_.end(), leaf.begin(), leaf.begin() + dim);
        }
        cascades_.push_back(std::move(trees));
        forest.clear();
        forest.shrink_to_fit();   // one copy of the trees at a time: 99 MB
    }
}

namespace {
typedef float float4 __attribute__((vector_size(16)));

// shape[0..n) += leaf[0..n): per element the same one addition as dlib's.
inline void add_leaf(float *shape, const float *leaf, size_t n) {
    size_t j = 0;
    for (; j + 4 <= n; j += 4) {
        float4 a, b;
        std::memcpy(&a, shape + j, sizeof a);
        std::memcpy(&b, leaf + j, sizeof b);
        a += b;
        std::memcpy(shape + j, &a, sizeof a);
    }
    for (; j < n; j++) shape[j] += leaf[j];
}
}  // namespace

template <typename image_type>
dlib::full_object_detection landmark_model::operator()(const image_type &img, const dlib::rectangle &rect) const {
    using namespace dlib::impl;
    const size_t dim = (size_t)initial_.size();
    dlib::matrix<float, 0, 1> shape = initial_;
    std::vector<float> pixels;
    for (size_t c = 0; c < cascades_.size(); c++) {
        extract_feature_pixel_values(img, rect, shape, initial_, anchors_[c], deltas_[c], pixels);
        for (const tree &t : cascades_[c]) {
            const split *s = &splits_[t.first_split];
            size_t i = 0;
            while (i < t.n_splits) i = pixels[s[i].idx1] - pixels[s[i].idx2] > s[i].thresh ? 2 * i + 1 : 2 * i + 2;
            add_leaf(&shape(0), &leaves_[t.first_leaf + (i - t.n_splits) * dim], dim);
        }
    }
    const dlib::point_transform_affine to_image = unnormalizing_tform(rect);
    std::vector<dlib::point> parts(dim / 2);
    for (size_t i = 0; i < parts.size(); i++) parts[i] = to_image(location(shape, i));
    return dlib::full_object_detection(rect, parts);
}

template dlib::full_object_detection landmark_model::operator()(const dlib::cv_image<dlib::rgb_pixel> &,
                                                                const dlib::rectangle &) const;
template dlib::full_object_detection landmark_model::operator()(const dlib::cv_image<unsigned char> &,
                                                                const dlib::rectangle &) const;

bool landmark_model_matches_dlib(const std::string &path) {
    dlib::shape_predictor theirs;
    dlib::deserialize(path) >> theirs;
    landmark_model ours(std::move(*read_shape_predictor(path)));
    cv::Mat colour(240, 320, CV_8UC3), grey(240, 320, CV_8UC1);
    std::mt19937 rng(7);
    for (int y = 0; y < colour.rows; y++)
        for (int x = 0; x < colour.cols; x++) {   // gradients and noise: every tree path gets exercised
            cv::Vec3b &p = colour.at<cv::Vec3b>(y, x);
            for (int k = 0; k < 3; k++) p[k] = (unsigned char)((x * (k + 1) + y * (3 - k) + rng() % 64) & 255);
            grey.at<unsigned char>(y, x) = (unsigned char)((x + 2 * y + rng() % 96) & 255);
        }
    dlib::cv_image<dlib::rgb_pixel> c(colour);
    dlib::cv_image<unsigned char> g(grey);
    for (int k = 0; k < 12; k++) {
        dlib::rectangle r(10 + 17 * k, 5 + 9 * k, 10 + 17 * k + 60 + 7 * k, 5 + 9 * k + 60 + 7 * k);
        dlib::full_object_detection a = theirs(c, r), b = ours(c, r), ag = theirs(g, r), bg = ours(g, r);
        for (unsigned long i = 0; i < a.num_parts(); i++)
            if (a.part(i) != b.part(i) || ag.part(i) != bg.part(i)) return false;
    }
    return true;
}

}  // namespace fa
