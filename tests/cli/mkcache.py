#!/usr/bin/python3
"""mkcache.py - writes a faceaudit cache (docs/cache-format.md) from the
vectors of bench/synth.py, without images: one face per pseudo-file
<folder>/<row>.jpg, each with its own (made-up) content hash.

    mkcache.py SYNTH_DIR CACHE_DIR
"""
import hashlib
import json
import os
import sys
import numpy as np


def main():
    src, out = sys.argv[1], sys.argv[2]
    n, d = map(int, open(os.path.join(src, "info.txt")).read().split())
    x = np.fromfile(os.path.join(src, "emb.f32"), dtype="<f4").reshape(n, d)
    grp = np.fromfile(os.path.join(src, "groups.u32"), dtype="<u4")
    names = open(os.path.join(src, "folders.txt")).read().split("\n")[:-1]
    paths = ["%s/%07d.jpg" % (names[grp[r]], r) for r in range(n)]
    order = sorted(range(n), key=lambda r: paths[r].encode())
    os.makedirs(out, exist_ok=True)
    np.save(os.path.join(out, "embeddings.1.npy"), np.ascontiguousarray(x[order]))
    cols = "row\tfolder\tpath\tface\tnfaces\tstatus\tx\ty\tw\th\tscore\twidth\theight\tsize\tmtime_ns\tsha256\treason"
    with open(os.path.join(out, "manifest.1.tsv"), "w") as f:
        f.write(cols + "\n")
        for row, r in enumerate(order):
            sha = hashlib.sha256(paths[r].encode()).hexdigest()
            f.write("%d\t%s\t%s\t0\t1\tok\t10.00\t10.00\t100.00\t100.00\t1.0000\t160\t160\t1000\t0\t%s\t\n"
                    % (row, names[grp[r]], paths[r], sha))
    fake = lambda s: hashlib.sha256(s.encode()).hexdigest()
    meta = {"format": "faceaudit-cache", "version": 1, "generation": 1, "created": "2026-01-01T00:00:00Z",
            "root": "/nonexistent/synthetic", "dim": d, "n_files": n, "n_faces": n,
            "n_folders": len(set(grp.tolist())), "embeddings": "embeddings.1.npy", "manifest": "manifest.1.tsv",
            "models": [{"role": r, "name": r + ".dat", "sha256": fake(r)} for r in ("detector", "landmarks", "encoder")],
            "detect": {"detect_long_side": 1024, "upsample_min_side": 0, "retry_long_side": 1600,
                       "max_pixels": 80000000, "chip_size": 150, "chip_padding": 0.25}}
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)


main()
