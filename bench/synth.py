#!/usr/bin/python3
"""synth.py - a reproducible synthetic face-embedding set for the audit and
query benchmarks.

    /usr/bin/python3 bench/synth.py OUTDIR [--n 57637] [--ids 1000] [--seed 1]

Shaped like dlib face descriptors (128-d, not unit norm, a shared mean):
  - ~1,000 identities with unequal folder sizes (log-normal, 3 to ~600 faces);
  - identity centres drawn from an anisotropic Gaussian (decaying spectrum), so
    different-person distances spread over roughly 0.7-1.1 (median ~0.9) with
    a lower tail, and same-person distances sit around 0.4 (per-identity
    spread varies);
  - 20 look-alike identity pairs (centres ~0.55 apart);
planted errors (recorded in truth.tsv):
  - misfiled: 2% of faces filed in a random wrong folder;
  - split: identity 0's faces split over two folders (its own and "id0000_b");
  - dup: 0.5% of faces are exact copies of another face's vector (half in the
    same folder, half in another folder), near_dup: 0.5% re-encoded copies
    (distance ~0.02).

Writes OUTDIR/emb.f32 (n x d float32, little endian, rows grouped by folder),
OUTDIR/emb.npy (the same), OUTDIR/groups.u32 (folder per row),
OUTDIR/folders.txt (folder names, one per line, index = folder id),
OUTDIR/truth.tsv (row, folder, identity, kind) and OUTDIR/info.txt ("n d").
"""
import argparse
import os
import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--n", type=int, default=57637)
    ap.add_argument("--ids", type=int, default=1000)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    n, k, d = a.n, a.ids, a.dim

    # folder sizes: log-normal, scaled to sum to n exactly, at least 3
    w = rng.lognormal(0.0, 0.9, k)
    sizes = np.maximum(3, np.floor(w / w.sum() * n)).astype(np.int64)
    while sizes.sum() < n:
        sizes[rng.integers(k)] += 1
    while sizes.sum() > n:
        i = rng.integers(k)
        if sizes[i] > 3:
            sizes[i] -= 1

    # anisotropic identity space: eigenvalues ~ 1/(j+8), scaled so that the
    # typical centre-to-centre distance is ~0.82 (plus within noise -> ~0.9)
    spec = 1.0 / (np.arange(d) + 8.0)
    spec = spec / spec.sum()
    basis, _ = np.linalg.qr(rng.standard_normal((d, d)))
    cen_scale = 0.58
    z = rng.standard_normal((k, d)) * np.sqrt(spec) * cen_scale
    centres = z @ basis.T
    mean = rng.standard_normal(d) * 0.06            # shared offset, |mean|~0.7
    # look-alikes: move 20 identities next to another one
    for t in range(20):
        src, dst = 2 * t + 1, 2 * t + 2
        dirn = rng.standard_normal(d)
        dirn /= np.linalg.norm(dirn)
        centres[dst] = centres[src] + dirn * 0.50
    # within-identity spread: same-person distance ~ sqrt(2)*s, s in [0.22,0.34]
    s_id = rng.uniform(0.22, 0.34, k)
    wspec = 0.5 / d + 0.5 * spec                    # partly isotropic noise

    ident = np.repeat(np.arange(k), sizes)
    noise = rng.standard_normal((n, d)) * np.sqrt(wspec)
    noise = (noise @ basis.T) * s_id[ident][:, None]
    x = (mean + centres[ident] + noise).astype(np.float32)
    folder = ident.copy()
    kind = np.array(["ok"] * n, dtype=object)

    # planted errors
    names = ["id%04d" % i for i in range(k)] + ["id0000_b"]
    rows0 = np.flatnonzero(ident == 0)
    folder[rows0[len(rows0) // 2:]] = k              # split identity 0
    kind[rows0[len(rows0) // 2:]] = "split"
    cand = np.flatnonzero(ident != 0)
    mis = rng.choice(cand, int(0.02 * n), replace=False)
    for r in mis:
        f = rng.integers(k)
        while f == ident[r]:
            f = rng.integers(k)
        folder[r] = f
        kind[r] = "misfiled"
    ok = np.flatnonzero(kind == "ok")
    dup = rng.choice(ok, int(0.01 * n), replace=False)
    half = len(dup) // 2
    for t, r in enumerate(dup):
        src = rng.choice(ok)
        if t < half // 2:            # exact copy, same folder
            src = rng.choice(np.flatnonzero(folder == folder[r]))
            x[r] = x[src]
            kind[r] = "dup_same_folder"
        elif t < half:               # exact copy, another folder
            x[r] = x[src]
            ident[r] = ident[src]
            kind[r] = "dup"
        else:                        # re-encoded copy
            x[r] = x[src] + rng.standard_normal(d).astype(np.float32) * (0.02 / np.sqrt(d))
            ident[r] = ident[src]
            kind[r] = "near_dup"
        if kind[r] == "dup_same_folder" and src == r:
            kind[r] = "ok"

    order = np.argsort(folder, kind="stable")       # rows grouped by folder
    x, folder, ident, kind = x[order], folder[order], ident[order], kind[order]

    os.makedirs(a.outdir, exist_ok=True)
    x.tofile(os.path.join(a.outdir, "emb.f32"))
    np.save(os.path.join(a.outdir, "emb.npy"), x)
    folder.astype(np.uint32).tofile(os.path.join(a.outdir, "groups.u32"))
    with open(os.path.join(a.outdir, "folders.txt"), "w") as f:
        f.write("\n".join(names) + "\n")
    with open(os.path.join(a.outdir, "truth.tsv"), "w") as f:
        f.write("row\tfolder\tidentity\tkind\n")
        for r in range(n):
            f.write("%d\t%s\t%s\t%s\n" % (r, names[folder[r]], names[ident[r]], kind[r]))
    with open(os.path.join(a.outdir, "info.txt"), "w") as f:
        f.write("%d %d\n" % (n, d))

    # a quick look at the distance distributions
    i = rng.integers(n, size=200000)
    j = rng.integers(n, size=200000)
    dd = np.linalg.norm(x[i] - x[j], axis=1)
    same = ident[i] == ident[j]
    q = [1, 5, 25, 50, 75, 95, 99]
    print("n=%d d=%d folders=%d |x| median %.3f" % (n, d, len(names),
          np.median(np.linalg.norm(x, axis=1))))
    print("different-person distance quantiles", q, np.round(np.percentile(dd[~same], q), 3))
    wi = rng.integers(n, size=100000)
    wj = np.array([rng.choice(np.flatnonzero(ident == ident[r])) for r in wi[:3000]])
    ws = np.linalg.norm(x[wi[:3000]] - x[wj], axis=1)
    ws = ws[wi[:3000] != wj]
    print("same-person distance quantiles     ", q, np.round(np.percentile(ws, q), 3))
    print("share of different-person pairs under 0.6: %.4f" % np.mean(dd[~same] < 0.6))


if __name__ == "__main__":
    main()
