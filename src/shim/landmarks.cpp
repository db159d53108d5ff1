// landmarks.cpp - reads dlib's shape predictor files (the 99 MB 68-point
// landmark model: 16 million numbers) in a fraction of dlib::deserialize's
// time, which goes on a virtual stream call per number. Same format, parsed
// from one buffer, into the same members: anything the parser does not
// expect falls back to dlib's reader, and test_shim checks that both give
// byte-identical models.
#include "landmarks.hpp"

#include <cmath>
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

}  // namespace fa
