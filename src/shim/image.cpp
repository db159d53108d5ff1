// image.cpp - image decoding and report thumbnails, over OpenCV.
//
// Everything is decoded from bytes in memory (cv::imdecode), never from a
// path (cv::imread), because dataset paths may hold any bytes (Japanese,
// non-UTF-8) and the caller has already read and hashed the file anyway.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "shim.h"

namespace {

// OpenCV writes warnings about corrupt files to stderr; a library must not
// print, so silence its logger once.
void quiet_opencv() {
    static const bool done = [] {
        cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
        return true;
    }();
    (void)done;
}

// Decodes to 8-bit BGR: IMREAD_COLOR applies the EXIF orientation and drops
// alpha, depth and gray for us. An empty Mat means "not decodable".
cv::Mat decode_bgr(const void *bytes, size_t len) {
    quiet_opencv();
    cv::Mat buf(1, (int)len, CV_8UC1, const_cast<void *>(bytes));
    return cv::imdecode(buf, cv::IMREAD_COLOR);
}

int to_fa_image(const cv::Mat &bgr, fa_image *out) {
    size_t n = (size_t)bgr.cols * bgr.rows * 3;
    uint8_t *rgb = (uint8_t *)malloc(n);
    if (!rgb) return fa_error("fa_image_decode: out of memory for %dx%d pixels", bgr.cols, bgr.rows);
    cv::Mat dst(bgr.rows, bgr.cols, CV_8UC3, rgb);
    cv::cvtColor(bgr, dst, cv::COLOR_BGR2RGB);
    out->width = bgr.cols;
    out->height = bgr.rows;
    out->rgb = rgb;
    return 0;
}

int decode(const void *bytes, size_t len, fa_image *out) {
    if (len == 0) return fa_error("fa_image_decode: empty file");
    if (len > (size_t)INT32_MAX) return fa_error("fa_image_decode: file too large to decode");
    cv::Mat bgr = decode_bgr(bytes, len);
    if (bgr.empty()) return fa_error("fa_image_decode: not a decodable image (unknown format or corrupt data)");
    if (bgr.type() != CV_8UC3) return fa_error("fa_image_decode: unexpected pixel format after decoding");
    return to_fa_image(bgr, out);
}

// Reads a whole file with C I/O, so that any path bytes work.
bool read_file(const char *path, std::vector<uint8_t> &data) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fa_error("fa_thumbnail_jpeg: cannot open %s: %s", path, strerror(errno));
        return false;
    }
    uint8_t buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) data.insert(data.end(), buf, buf + n);
    bool ok = !ferror(f);
    fclose(f);
    if (!ok) fa_error("fa_thumbnail_jpeg: cannot read %s", path);
    return ok;
}

// The square around the box with a 30% margin on each side, centred on it.
cv::Rect square_around(const fa_box *box, int img_w, int img_h) {
    if (!box) {  // no face: the image's central square
        int s = std::min(img_w, img_h);
        return cv::Rect((img_w - s) / 2, (img_h - s) / 2, s, s);
    }
    float side = std::max(box->w, box->h) * 1.6f;
    if (side < 1) side = 1;
    float cx = box->x + box->w / 2, cy = box->y + box->h / 2;
    return cv::Rect((int)std::lround(cx - side / 2), (int)std::lround(cy - side / 2),
                    (int)std::lround(side), (int)std::lround(side));
}

// Copies the square out of img; parts outside the image are filled grey.
cv::Mat crop_padded(const cv::Mat &img, cv::Rect sq) {
    cv::Mat out(sq.height, sq.width, img.type(), cv::Scalar(128, 128, 128));
    cv::Rect inside = sq & cv::Rect(0, 0, img.cols, img.rows);
    if (inside.area() > 0)
        img(inside).copyTo(out(cv::Rect(inside.x - sq.x, inside.y - sq.y, inside.width, inside.height)));
    return out;
}

int thumbnail(const char *path, const fa_box *box, int size, uint8_t **out, size_t *out_len) {
    if (size < 1 || size > 4096) return fa_error("fa_thumbnail_jpeg: bad size %d", size);
    std::vector<uint8_t> data;
    if (!read_file(path, data)) return -1;
    if (data.empty()) return fa_error("fa_thumbnail_jpeg: %s: empty file", path);
    cv::Mat img = decode_bgr(data.data(), data.size());
    if (img.empty()) return fa_error("fa_thumbnail_jpeg: %s: not a decodable image", path);
    cv::Mat sq = crop_padded(img, square_around(box, img.cols, img.rows)), small;
    cv::resize(sq, small, cv::Size(size, size), 0, 0,
               sq.cols > size ? cv::INTER_AREA : cv::INTER_LINEAR);
    std::vector<uchar> jpg;
    if (!cv::imencode(".jpg", small, jpg, {cv::IMWRITE_JPEG_QUALITY, 85}))
        return fa_error("fa_thumbnail_jpeg: %s: JPEG encoding failed", path);
    *out = (uint8_t *)malloc(jpg.size());
    if (!*out) return fa_error("fa_thumbnail_jpeg: out of memory");
    memcpy(*out, jpg.data(), jpg.size());
    *out_len = jpg.size();
    return 0;
}

}  // namespace

extern "C" int fa_image_decode(const void *bytes, size_t len, fa_image *out)
{
    out->width = out->height = 0;
    out->rgb = NULL;
    try {
        return decode(bytes, len, out);
    } catch (const cv::Exception &e) {
        return fa_error("fa_image_decode: not a decodable image (%s)", e.err.c_str());
    } catch (const std::bad_alloc &) {
        return fa_error("fa_image_decode: out of memory");
    } catch (...) {
        return fa_error("fa_image_decode: not a decodable image");
    }
}

extern "C" void fa_image_free(fa_image *img)
{
    if (!img) return;
    free(img->rgb);
    img->rgb = NULL;
    img->width = img->height = 0;
}

extern "C" int fa_thumbnail_jpeg(const char *path, const fa_box *box, int size,
                                 uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    try {
        return thumbnail(path, box, size, out, out_len);
    } catch (const cv::Exception &e) {
        return fa_error("fa_thumbnail_jpeg: %s: %s", path, e.err.c_str());
    } catch (const std::exception &e) {
        return fa_error("fa_thumbnail_jpeg: %s: %s", path, e.what());
    } catch (...) {
        return fa_error("fa_thumbnail_jpeg: %s: unknown error", path);
    }
}
