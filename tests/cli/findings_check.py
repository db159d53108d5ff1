#!/usr/bin/python3
"""findings_check.py - compares CACHE/findings.json (the review list) with what
audit_plant.py planted. Prints one line per verdict, like audit_check.py:

  check 1|0 WHAT     a verdict (1: as expected)
  info  TEXT         ranks, for the log

usage: findings_check.py FINDINGS.json PLAN.json [--slack N] [--strict-control]

Each planted error must have its finding in the review part: a split as a
same_identity of the two folders, a moved photo as a misfiled (or stray /
mixed_folder) finding on that file, a copy (byte-identical, re-encoded, resized
(told by the face or whole-image thumbnails), or inside one folder, also
another crop of it: told by the face thumbnails) as a
duplicate finding on the copy, one finding per copied
file. The planted errors must be ranked at the top: each within the first
(planted + slack) findings, not counting duplicates of identical bytes the
dataset already had (they are facts). In review, copies inside one folder
(sure, but they mislabel no one) come after the copies across folders and the
findings with a full gap of evidence (score >= 1), before the weaker ones.
"""
import argparse, collections, json

def main():
    p = argparse.ArgumentParser()
    p.add_argument("findings"); p.add_argument("plan")
    p.add_argument("--slack", type=int, default=0)
    p.add_argument("--strict-control", action="store_true")
    a = p.parse_args()
    doc = json.load(open(a.findings, encoding="utf-8"))
    plan = json.load(open(a.plan, encoding="utf-8"))
    fl = doc["findings"]
    planted = []   # (label, predicate)
    for s in plan["split"]:
        pair = {s["folder"], s["new"]}
        planted.append(("split %s" % s["folder"], lambda f, pair=pair: f["kind"] == "same_identity" and
                        {f["folder"], f["other_folder"]} == pair))
    for m in plan["moved"]:
        planted.append(("moved %s" % m["path"], lambda f, m=m: f["kind"] in ("misfiled", "stray") and f["path"] == m["path"]
                        or f["kind"] == "mixed_folder" and any(m["path"] in c["paths"] for c in f["clusters"][1:])))
    for c in plan["copied"] + plan["reencoded"]:
        planted.append(("copy %s" % c["dst"], lambda f, c=c: f["kind"] == "duplicate" and f["path"] == c["dst"]))
    # a smaller copy: the same photo told by its pixels (face thumbnails, or
    # whole images with faces near: src/audit/thumb.h), kept against its
    # source (not another photo of the person)
    pixels = lambda e: (e.get("thumb_corr") or 0) >= 0.98 or \
        ((e.get("thumb_corr") or 0) >= 0.90 and (e.get("image_corr") or 0) >= 0.99)
    for c in plan.get("resized", []):
        planted.append(("smaller copy %s" % c["dst"], lambda f, c=c: f["kind"] == "duplicate" and
                        f["path"] == c["dst"] and f["other_path"] == c["src"] and pixels(f["evidence"])))
    inside = lambda f: f["kind"] == "duplicate" and f["folder"] == f["other_folder"]
    # a copy inside one folder mislabels no one: it is in review, after
    # the findings that do (its rank is not held to the top)
    within = [("copy inside its folder %s" % c["dst"], lambda f, c=c: inside(f) and f["path"] == c["dst"])
              for c in plan["within"]]
    # another crop: the same photo by its pixels (thumbnail correlation)
    within += [("another crop inside its folder %s" % c["dst"],
                lambda f, c=c: inside(f) and f["path"] == c["dst"] and (f["evidence"].get("thumb_corr") or 0) >= 0.98)
               for c in plan.get("recropped", [])]
    hit = lambda f: any(pred(f) for _, pred in planted)
    natural = lambda f: f["kind"] == "duplicate" and f["evidence"].get("identical") and not hit(f)
    n = len(planted)
    pos, k = [], 0
    for f in fl:
        k += 0 if natural(f) else 1
        pos.append(k)
    for label, pred in planted + within:
        r = next((i for i, f in enumerate(fl) if pred(f)), None)
        print("info %s: rank %s" % (label, "-" if r is None else "%d (%d not counting natural duplicates)" % (r + 1, pos[r])))
        print("check %d %s found in the review part" % (r is not None and fl[r]["review"], label))
        if (label, pred) in within:
            continue
        print("check %d %s ranked within the top %d" % (r is not None and pos[r] <= n + a.slack, label, n + a.slack))
    # the review part's order: copies across folders and findings with a full
    # gap of evidence (score >= 1), then copies inside one folder, then the
    # findings with less evidence
    part = lambda f: 1 if inside(f) else 0 if f["kind"] == "duplicate" or f["score"] >= 1 else 2
    parts = [part(f) for f in fl if f["review"]]
    print("check %d review part ordered: strong findings, copies inside one folder, weaker findings (%s)" %
          (parts == sorted(parts), "".join(map(str, parts))))
    for c in plan["copied"] + plan["within"] + plan.get("recropped", []) + plan.get("resized", []):
        k = sum(1 for f in fl if f["path"] == c["dst"])
        print("check %d one finding for the copied file %s (%d)" % (k == 1, c["dst"], k))
    ctrl = set(plan["control"])
    if a.strict_control:
        bad = [f["id"] for f in fl if f["review"] and (f["folder"] in ctrl or f["other_folder"] in ctrl)]
        print("check %d no finding in review about a control folder %s" % (not bad, " ".join(bad)))
    ids = [f["id"] for f in fl]
    print("check %d ids unique" % (len(ids) == len(set(ids))))
    # a mixed folder's summary names each group and counts its faces alone
    # together, by nearest folder (one line each buried the groups)
    for f in fl:
        if f["kind"] != "mixed_folder":
            continue
        cl, s = f["clusters"][1:], f["summary"]
        alone = [c for c in cl if len(c["paths"]) == 1]
        ok = s.count("a group of") == len(cl) - len(alone)
        if alone:
            ok &= s.count(" alone") == 1 and ("%d face%s alone" % (len(alone), "s" if len(alone) > 1 else "")) in s
            like = collections.Counter(c["looks_like"] for c in alone if c.get("looks_like"))
            ok &= all((g + (" %d" % n if len(alone) > 1 else "")) in s for g, n in like.items())
        else:
            ok &= " alone" not in s
        print("check %d summary of mixed folder %s: each group, the faces alone counted (%d of %d clusters)" %
              (ok, f["folder"], len(alone), len(cl)))
    # the reason a copy is left out of review matches the copy: a group photo
    # (identical bytes in several folders), or a copy inside one folder
    for f in fl:
        if f["kind"] != "duplicate" or f["review"]:
            continue
        group = "group photo" in f["summary"]
        want = bool(f["evidence"].get("identical")) and f["folder"] != f["other_folder"]
        print("check %d reason given for %s left out of review: %s" % (group == want, f["path"], f["summary"]))

if __name__ == "__main__":
    main()
