#!/usr/bin/python3
"""faiss_ref.py - faiss references for the cross-folder join, on the
synthetic set of bench/synth.py (needs python3-faiss, numpy).

    FA_BENCH_PAIRS=/tmp/exact.u32 bench_join DIR 2 0.6 1     # our exact pairs
    /usr/bin/python3 bench/faiss_ref.py DIR /tmp/exact.u32 [max_dist=0.6] [threads=2] [nprobes=1,8]

1. The original procedure: IndexIVFFlat(nlist=100) trained on all vectors,
   k=10 search of every vector (nprobe 1, faiss's default, and 8), keep
   neighbours in another folder within max_dist.
2. faiss exact range search (IndexFlatL2.range_search), cross-folder filter.
Prints times, pair counts, and recall / agreement against our exact pairs.
"""
import sys
import time
import numpy as np
import faiss


def pairs_to_keys(i, j, n):
    a = np.minimum(i, j).astype(np.int64)
    b = np.maximum(i, j).astype(np.int64)
    return np.unique(a * n + b)


def report(name, secs, keys, exact):
    found = np.intersect1d(keys, exact, assume_unique=True).size
    print("%-34s %8.2f s  %9d pairs  recall %.4f  (%d extra)" %
          (name, secs, keys.size, found / max(1, exact.size), keys.size - found))


def main():
    d_dir, exact_path = sys.argv[1], sys.argv[2]
    t = float(sys.argv[3]) if len(sys.argv) > 3 else 0.6
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    faiss.omp_set_num_threads(threads)
    x = np.ascontiguousarray(np.load(d_dir + "/emb.npy"), dtype=np.float32)
    g = np.fromfile(d_dir + "/groups.u32", dtype=np.uint32)
    n, d = x.shape
    ex = np.fromfile(exact_path, dtype=np.uint32).reshape(-1, 2)
    exact = pairs_to_keys(ex[:, 0], ex[:, 1], n)
    print("n=%d d=%d max_dist=%.3f threads=%d; our exact: %d pairs" % (n, d, t, threads, exact.size))

    for nprobe in [int(v) for v in (sys.argv[5] if len(sys.argv) > 5 else "1,8").split(",")]:
        t0 = time.perf_counter()
        q = faiss.IndexFlatL2(d)
        ivf = faiss.IndexIVFFlat(q, d, 100)
        ivf.train(x)
        ivf.add(x)
        ivf.nprobe = nprobe
        D, I = ivf.search(x, 10)
        secs = time.perf_counter() - t0
        rows = np.repeat(np.arange(n), 10)
        I = I.ravel()
        D = D.ravel()
        ok = (I >= 0) & (D <= t * t)
        ok &= g[rows] != g[np.where(I >= 0, I, 0)]
        report("IVFFlat nlist=100 k=10 nprobe=%d" % nprobe, secs, pairs_to_keys(rows[ok], I[ok], n), exact)

    t0 = time.perf_counter()
    flat = faiss.IndexFlatL2(d)
    flat.add(x)
    lims, D, I = flat.range_search(x, t * t)
    secs = time.perf_counter() - t0
    rows = np.repeat(np.arange(n), np.diff(lims).astype(np.int64))
    ok = (g[rows] != g[I]) & (rows < I)
    report("faiss exact range search", secs, pairs_to_keys(rows[ok], I[ok], n), exact)


if __name__ == "__main__":
    main()
