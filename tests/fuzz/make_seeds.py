#!/usr/bin/python3
"""make_seeds.py CACHE FACES OUT - seed corpora for the fuzz harnesses, made
from real files: a cache built by `faceaudit index` (meta.json, manifest,
embeddings), photos of ../shared/faces (the first bytes of each, and small
re-encodings in every format the sniffer knows), and a journal written in
journal.h's format from the cache's own rows. The committed seeds/ folder was
made by this script from the examples dataset; run it again after a format
change."""
import io, os, struct, sys, zlib

cache, faces, out = sys.argv[1:4]
def put(h, name, data):
    os.makedirs(os.path.join(out, h), exist_ok=True)
    with open(os.path.join(out, h, name), "wb") as f:
        f.write(data)

meta = open(os.path.join(cache, "meta.json"), "rb").read()
man = open(os.path.join(cache, "manifest.tsv"), "rb").read()
npy = open(os.path.join(cache, "embeddings.npy"), "rb").read()
tpath = os.path.join(cache, "facethumbs.npy")   # face thumbnails: 256 bytes a face (zeros: none)
thumbs = open(tpath, "rb").read() if os.path.exists(tpath) else b""
thumbs = thumbs[10 + struct.unpack("<H", thumbs[8:10])[0]:] if thumbs else b""
put("json", "meta.json", meta)
put("json", "small.json", b'{"a": [1, -2.5e3, true, false, null], "s": "\\u00e9\\ud83d\\ude00\\n\\"", "o": {}}')
put("meta", "meta.json", meta)
# the manifest harness takes one extra first byte (0: meta.json's counts agree)
put("manifest", "manifest.tsv", b"\0" + man)
lines = man.split(b"\n")
put("manifest", "head.tsv", b"\0" + b"\n".join(lines[:4]) + b"\n")
odd = b"\0" + lines[0] + b"\n" + b"0\ta\ta/one.jpg\t0\t2\tok\t1.00\t2.00\t3.00\t4.00\t0.9000\t100\t80\t10\t123\t" + b"2d" * 32 + \
      b"\t\n1\ta\ta/one.jpg\t1\t2\tok\t5.00\t6.00\t7.00\t8.00\t0.5000\t100\t80\t10\t123\t" + b"2d" * 32 + \
      b"\t\n-1\tb\\tweird\tb\\tweird/x\\ny\\\\z\\xff.png\t-1\t0\tunreadable\t0\t0\t0\t0\t0\t0\t0\t5\t-7\t\ttruncated PNG\\theader\n"
put("manifest", "escapes.tsv", odd)
hlen = struct.unpack("<H", npy[8:10])[0]
put("npy", "embeddings.npy", npy[:10 + hlen + 512 * 2])

# journal: header, then one record per manifest row group, from the cache's rows
dim = 128
emb = npy[10 + hlen:]
j = bytearray(b"FAJOURNAL2\n" + struct.pack("<I", dim) + b"0" * 64)
status = {b"ok": 0, b"no_face": 1, b"unreadable": 2, b"unsupported": 3, b"too_large": 4, b"no_identity": 5}
rows = [l.split(b"\t") for l in lines[1:] if l]
i = 0
while i < len(rows):
    r = rows[i]
    n = int(r[4])
    group = rows[i:i + max(n, 1)]
    path, reason = r[2], r[16]
    p = struct.pack("<H", len(path)) + path + struct.pack("<qq", int(r[13]), int(r[14]))
    p += bytes([status[r[5]], 1 if r[15] else 0]) + (bytes.fromhex(r[15].decode()) if r[15] else b"\0" * 32)
    p += struct.pack("<iiH", int(r[11]), int(r[12]), len(reason)) + reason + struct.pack("<I", n)
    for g in group[:n]:
        p += struct.pack("<5f", *[float(x) for x in g[6:11]])
        row = int(g[0])
        p += emb[row * dim * 4:(row + 1) * dim * 4]
        p += thumbs[row * 256:(row + 1) * 256] or bytes(256)
    j += struct.pack("<III", 0x524a4146, len(p), zlib.crc32(p)) + p
    i += max(n, 1)
put("journal", "journal", bytes(j[:8192]))

# images: the first bytes of real photos, and small re-encodings
from PIL import Image
photos = []
for d, _, fs in sorted(os.walk(os.path.join(faces, "examples"))):
    photos += [os.path.join(d, f) for f in sorted(fs) if f.lower().endswith((".jpg", ".jpeg", ".png"))]
for p in photos[:4]:
    put("image", os.path.basename(p) + ".head", open(p, "rb").read()[:2048])
im = Image.open(photos[0]).convert("RGB").resize((24, 24))
for fmt, ext in [("PNG", "png"), ("JPEG", "jpg"), ("BMP", "bmp"), ("WEBP", "webp"), ("TIFF", "tif"),
                 ("GIF", "gif"), ("PPM", "ppm")]:
    b = io.BytesIO()
    im.save(b, fmt)
    put("image", "small." + ext, b.getvalue()[:4096])
