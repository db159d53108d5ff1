#!/usr/bin/python3
"""faiss_flat.py - faiss's exact (flat L2) search on the same cache and queries
as bench_query, for bench/bench_query.sh.

    /usr/bin/python3 bench/faiss_flat.py CACHE OUTDIR [k=10] [runs=200]

Reads CACHE/embeddings.npy, OUTDIR/queries.f32 and OUTDIR/topk.u32 (faceaudit's
answers), times one query at a time (median, 1 thread and all threads), and
prints how many of faceaudit's top-k rows faiss also returns ("agree").
"""
import sys
import time
import numpy as np
import faiss


def median_ms(index, q, k):
    t = []
    for i in range(len(q)):
        t0 = time.perf_counter()
        index.search(q[i:i + 1], k)
        t.append(time.perf_counter() - t0)
    return float(np.median(t)) * 1e3


def main():
    cache, out = sys.argv[1], sys.argv[2]
    k = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    x = np.ascontiguousarray(np.load(cache + "/embeddings.npy"), dtype=np.float32)
    d = x.shape[1]
    q = np.fromfile(out + "/queries.f32", dtype=np.float32).reshape(-1, d)
    ours = np.fromfile(out + "/topk.u32", dtype=np.uint32).reshape(len(q), k)
    t0 = time.perf_counter()
    index = faiss.IndexFlatL2(d)
    index.add(x)
    add_ms = (time.perf_counter() - t0) * 1e3
    nt = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    one = median_ms(index, q, k)
    faiss.omp_set_num_threads(nt)
    allt = median_ms(index, q, k)
    _, ids = index.search(q, k)
    agree = sum(len(set(a.tolist()) & set(b.tolist())) for a, b in zip(ids, ours))
    print(f"faiss_version {faiss.__version__}")
    print(f"faiss_add_ms {add_ms:.3f}")
    print(f"faiss_1thread_ms {one:.3f}")
    print(f"faiss_{nt}threads_ms {allt:.3f}")
    print(f"agree {agree}/{len(q) * k}")


if __name__ == "__main__":
    main()
