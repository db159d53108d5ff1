#!/usr/bin/python3
"""make_findings.py - writes CACHE/findings.json (format 1 of the findings
contract, README "Review and fix") with one finding of every kind, picked
deterministically from the cache's manifest, so that `review` and `fix` can be
tested on every action without depending on what the audit finds in a small
tree. Files come with the manifest's size, mtime and SHA-256 (the index must be
current).

usage: make_findings.py CACHE [--no-dup]
  misfiled       the first file of folder 1 -> folder 2
  same_identity  folder 4 into folder 3
  duplicate      every group of byte-identical files (keep the first path)
  mixed_folder   folder 5: its last file is another person
  stray          the first file of folder 6
"""
import hashlib, json, os, sys
from collections import defaultdict

def load(cache):
    meta = json.load(open(os.path.join(cache, "meta.json")))
    rows = []
    with open(os.path.join(cache, "manifest.tsv"), encoding="utf-8") as f:
        head = f.readline().rstrip("\n").split("\t")
        for line in f:
            r = dict(zip(head, line.rstrip("\n").split("\t")))
            if r["sha256"] and r["face"] in ("0", "-1"):
                rows.append(r)
    return meta, rows

def fid(kind, files):
    h = hashlib.sha256((kind + "\n" + "\n".join(sorted(x["sha256"] for x in files))).encode()).hexdigest()
    return f"{kind}-{h[:16]}"

def entry(r):
    return {"path": r["path"], "sha256": r["sha256"], "size": int(r["size"]), "mtime_ns": int(r["mtime_ns"]),
            "folder": r["folder"], "face_row": int(r["row"])}

def finding(kind, action, path, folder, other_path, other_folder, summary, files, score, **extra):
    f = {"id": fid(kind, files), "rank": 0, "kind": kind, "action": action, "score": score, "review": True,
         "path": path, "folder": folder, "other_path": other_path, "other_folder": other_folder,
         "summary": summary, "files": [entry(r) for r in files], "evidence": {"distance": 0.41, "rel": 0.8}}
    f.update(extra)
    return f

def main():
    cache = sys.argv[1]
    meta, rows = load(cache)
    by_folder = defaultdict(list)
    for r in rows:
        by_folder[r["folder"]].append(r)
    sha_count = defaultdict(list)
    for r in rows:
        sha_count[r["sha256"]].append(r)
    dup_paths = {r["path"] for g in sha_count.values() if len(g) > 1 for r in g}
    folders = sorted(f for f in by_folder if f)
    if len(folders) < 6:
        sys.exit("make_findings.py: need at least 6 folders")
    clean = lambda f: [r for r in by_folder[f] if r["path"] not in dup_paths]
    out = []
    a, b = folders[0], folders[1]
    m = clean(a)[0]
    out.append(finding("misfiled", "move", m["path"], a, clean(b)[0]["path"], b,
                       f"{m['path']} looks like {b}", [m], 3.0))
    c, d = folders[2], folders[3]
    out.append(finding("same_identity", "merge", clean(c)[0]["path"], c, clean(d)[0]["path"], d,
                       f"{c} and {d} look like one person", clean(c)[:2] + clean(d), 2.5))
    if "--no-dup" not in sys.argv:
        for g in sorted(sha_count.values(), key=lambda g: g[0]["path"]):
            if len(g) > 1:
                g = sorted(g, key=lambda r: r["path"])
                out.append(finding("duplicate", "keep_one", g[0]["path"], g[0]["folder"], g[1]["path"], g[1]["folder"],
                                   f"{len(g)} identical files", g, 2.0, keep=g[0]["path"]))
    e = folders[4]
    own, other = clean(e)[:-1], clean(e)[-1:]
    out.append(finding("mixed_folder", "split", other[0]["path"], e, "", "", f"{e} holds two people",
                       other, 1.5, clusters=[{"own": True, "paths": [r["path"] for r in own]},
                                             {"own": False, "paths": [r["path"] for r in other], "looks_like": ""}]))
    s = clean(folders[5])[0]
    out.append(finding("stray", "check", s["path"], folders[5], "", "", f"{s['path']} is unlike {folders[5]}",
                       [s], 1.0))
    for i, f in enumerate(out):
        f["rank"] = i + 1
    doc = {"format": 1, "root": meta["root"], "cache": os.path.abspath(cache), "generation": meta.get("generation", 1),
           "created": "2026-01-01T00:00:00Z", "encoder": "dlib", "findings": out,
           "info": {"no_face": [], "multi_face": [], "unreadable": []}}
    tmp = os.path.join(cache, "findings.json.tmp")
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
    os.replace(tmp, os.path.join(cache, "findings.json"))
    print(len(out))

main()
