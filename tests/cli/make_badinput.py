"""make_badinput.py - builds the hostile image tree of test_badinput.sh.

Usage: make_badinput.py SHARED_FACES OUT_ROOT
Every file is made from a real face photo or from bytes written here, so the
expected status of each is known (printed as "path<TAB>status" lines).
"""
import os, struct, sys, zlib
from PIL import Image

faces, root = sys.argv[1], sys.argv[2]
src = os.path.join(faces, "examples", "obama", "obama.jpg")
expect = []

def put(rel, data, status):
    path = os.path.join(root.encode(), rel.encode("utf-8", "surrogateescape"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    expect.append((rel, status))

def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

raw = open(src, "rb").read()
img = Image.open(src).convert("RGB")
img.thumbnail((600, 600))

def encoded(im, fmt, **kw):
    import io
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()

put("bad/empty.jpg", b"", "unreadable")
put("bad/truncated.jpg", raw[: len(raw) // 3], "")          # decodes partly: ok or no_face, never a crash
put("bad/header_only.jpg", raw[:200], "unreadable")
png = encoded(img, "PNG")
put("bad/truncated.png", png[: len(png) // 2], "unreadable")
put("bad/text.png", b"this is a text file, not a picture\n", "unreadable")
put("bad/anim.gif", encoded(img, "GIF"), "unsupported")
bomb = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)) \
     + png_chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + png_chunk(b"IEND", b"")
put("bad/bomb.png", bomb, "too_large")
# Formats and pixel layouts that must decode and find the face.
put("good/rgb16.png", encoded(Image.fromarray(__import__("numpy").asarray(img, dtype="uint16") * 257), "PNG")
    if False else b"", "skip")
expect.pop()
import numpy as np
a16 = (np.asarray(img.convert("L"), dtype=np.uint16) * 257)
put("good/gray16.png", encoded(Image.fromarray(a16, mode="I;16"), "PNG"), "ok")
put("good/gray.png", encoded(img.convert("L"), "PNG"), "ok")
put("good/rgba.png", encoded(img.convert("RGBA"), "PNG"), "ok")
put("good/palette.png", encoded(img.convert("P"), "PNG"), "ok")
put("good/photo.bmp", encoded(img, "BMP"), "ok")
put("good/photo.webp", encoded(img, "WEBP"), "ok")
put("good/photo.tiff", encoded(img, "TIFF"), "ok")
put("good/png_named.jpg", png, "ok")                          # the extension lies
put("good/no_extension", encoded(img, "JPEG"), "ok")           # recognised by content
# EXIF orientation 6: pixels stored rotated; the decoder must turn them back.
exif = Image.Exif()
exif[0x0112] = 6
put("good/exif_rotated.jpg", encoded(img.transpose(Image.Transpose.ROTATE_90), "JPEG", exif=exif), "ok")
put("good/\u751f\u7530 space & 'quote'.jpg", encoded(img, "JPEG"), "ok")
put("good/bad\udcff\udcfename.jpg", encoded(img, "JPEG"), "ok")   # not UTF-8
put("nobody/noise.png", encoded(Image.fromarray(np.full((300, 300, 3), 128, np.uint8)), "PNG"), "no_face")
put("in_root.jpg", encoded(img, "JPEG"), "no_identity")
for rel, status in expect:
    if status:
        sys.stdout.buffer.write(rel.encode("utf-8", "surrogateescape") + b"\t" + status.encode() + b"\n")
