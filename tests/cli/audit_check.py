#!/usr/bin/python3
"""audit_check.py - compares an audit's report.json with what audit_plant.py
planted. Prints one line per verdict, for the shell test to count:

  check 1|0 WHAT     a verdict (1: as expected)
  info  TEXT         ranks and counts, for the log

usage: audit_check.py REPORT.json PLAN.json [--strict-control] [--top-slack N]
                      [--max-unplanted-per-100 X] [--exclude-known]

A pair is planted when it joins the two halves of a split folder, a moved,
copied or re-encoded photo with its source folder, or a copy with its
original. Identical-file pairs and duplicate groups that no plant made are
the dataset's own ("known"); they are counted apart. A planted error ranks
at the top of its section when fewer than --top-slack unplanted findings rank
above its best row.
"""
import argparse, json, sys

def folder(path):
    return path.split("/", 1)[0]

class Checker:
    def __init__(self, rep, plan, args):
        self.r, self.p, self.a = rep, plan, args
        self.n_images = rep["files"]
        self.split = [(s["folder"], s["new"]) for s in plan["split"]]
        self.moved = {m["path"]: m for m in plan["moved"]}
        self.copies = {c["dst"]: c["src"] for c in plan["copied"] + plan["reencoded"] + plan.get("resized", [])}
        self.control = set(plan["control"])
        # files of the dataset's own duplicate groups: findings about them are "known"
        planted = {c["dst"] for c in plan["copied"] + plan["within"]}
        self.dup_files = {f["path"] for g in rep["duplicates"] for f in g["files"]
                          if not planted & {x["path"] for x in g["files"]}}

    def verdict(self, ok, what):
        print("check %d %s" % (1 if ok else 0, what))

    def info(self, text):
        print("info " + text)

    # ---- which planted error a finding belongs to --------------------------------

    def pair_error(self, p):
        """The planted error a pair is about; pairs that join a planted
        photo with a third folder count as that error too (the misfiled
        face is a look-alike of someone else as well)."""
        a, b = p["path1"], p["path2"]
        fa, fb = p["folder1"], p["folder2"]
        for s, n in self.split:
            if {fa, fb} == {s, n}:
                return "split " + s
        for x, y, fy in ((a, b, fb), (b, a, fa)):
            if x in self.moved and fy == self.moved[x]["from"]:
                return "moved " + x
            if x in self.copies and (y == self.copies[x] or fy == folder(self.copies[x])):
                return "copy " + x
        for x in (a, b):
            if x in self.moved:
                return "moved (other folder) " + x
            if x in self.copies:
                return "copy (other folder) " + x
        return None

    def outlier_error(self, o):
        for s, n in self.split:
            if {o["folder"], o["best_folder"]} == {s, n}:
                return "split " + s
        if o["path"] in self.moved:
            return "moved " + o["path"]
        if o["path"] in self.copies:
            return "copy " + o["path"]
        return None

    def dup_error(self, d):
        paths = {f["path"] for f in d["files"]}
        for c in self.p["copied"] + self.p["within"]:
            if c["dst"] in paths:
                return "dup " + c["dst"]
        return None

    # ---- sections ----------------------------------------------------------------

    def ranks(self, rows, classify, known=lambda r: False):
        """best rank per planted error, and the unplanted / known rows."""
        best, unplanted, known_rows = {}, [], []
        for i, r in enumerate(rows):
            e = classify(r)
            if e:
                best.setdefault(e, i + 1)
            elif known(r):
                known_rows.append(r)
            else:
                unplanted.append((i + 1, r))
        return best, unplanted, known_rows

    def at_top(self, section, best, unplanted, judge=lambda e: True):
        for e, rank in sorted(best.items(), key=lambda x: x[1]):
            above = sum(1 for rk, _ in unplanted if rk < rank)
            self.info("%s: %s best rank %d (%d unplanted above)" % (section, e, rank, above))
            if judge(e):
                self.verdict(above <= self.a.top_slack, "%s: %s ranks near the top (rank %d, %d unplanted above)"
                             % (section, e, rank, above))

    def pairs(self):
        """Strong pairs are findings; look-alikes are listed, not counted."""
        rows = [p for p in self.r["pairs"] if p["strong"]]
        best, unplanted, known = self.ranks(rows, self.pair_error, lambda p: p["kind"] == "identical_file" or
                                            p["path1"] in self.dup_files or p["path2"] in self.dup_files)
        self.info("pairs: %d listed, %d strong" % (len(self.r["pairs"]), len(rows)))
        for s, n in self.split:
            self.info("pairs: split folder %s / %s paired: %s" % (s, n, ("split " + s) in best))
        for m in self.moved:
            self.info("pairs: moved photo %s paired with %s: %s" % (m, self.moved[m]["from"], ("moved " + m) in best))
        kinds = {(p["path1"], p["path2"]): p["kind"] for p in rows}
        kinds.update({(b, a): k for (a, b), k in list(kinds.items())})
        for c in self.p["copied"]:
            self.verdict(kinds.get((c["src"], c["dst"])) == "identical_file",
                         "pairs: copy %s labelled identical_file (got %s)" % (c["dst"], kinds.get((c["src"], c["dst"]))))
        for c in self.p["reencoded"]:
            self.verdict(kinds.get((c["src"], c["dst"])) == "same_photo",
                         "pairs: re-encoded %s labelled same_photo (got %s)" % (c["dst"], kinds.get((c["src"], c["dst"]))))
        self.at_top("pairs", best, unplanted, lambda e: "(other folder)" not in e and
                    (e.startswith("copy ") or e.startswith("moved ")))
        self.unplanted_pairs, self.known_pairs = unplanted, known
        return unplanted

    def merges(self):
        rows = [m for m in self.r["merges"] if m["suggest"]]
        err = lambda m: next(("split " + s for s, n in self.split if {m["folder1"], m["folder2"]} == {s, n}), None)
        best, unplanted, _ = self.ranks(rows, err)
        for s, n in self.split:
            self.verdict(("split " + s) in best, "merges: %s + %s suggested" % (s, n))
        self.at_top("merges", best, unplanted)
        return unplanted

    def outliers(self):
        rows = self.r["outliers"]
        best, unplanted, known = self.ranks(rows, self.outlier_error, lambda o: o["path"] in self.dup_files)
        self.known_outliers = known
        by_path = {o["path"]: o for o in rows}
        for m, v in self.moved.items():
            o = by_path.get(m)
            self.verdict(o is not None, "outliers: moved photo %s reported" % m)
            self.verdict(o is not None and o["best_folder"] == v["from"],
                         "outliers: %s matches its own folder %s best (got %s)"
                         % (m, v["from"], o and o["best_folder"]))
        self.at_top("outliers", {e: r for e, r in best.items() if e.startswith("moved")}, unplanted)
        return unplanted

    def dups(self):
        rows = self.r["duplicates"]
        best, _, known = self.ranks(rows, self.dup_error, lambda d: True)
        groups = {f["path"]: d for d in rows for f in d["files"]}
        for c in self.p["copied"]:
            d = groups.get(c["dst"])
            self.verdict(d is not None and d["cross_folder"] and c["src"] in {f["path"] for f in d["files"]},
                         "duplicates: %s and %s in one group across folders" % (c["src"], c["dst"]))
        for c in self.p["within"]:
            d = groups.get(c["dst"])
            self.verdict(d is not None and not d["cross_folder"] and c["src"] in {f["path"] for f in d["files"]},
                         "duplicates: %s and %s in one group within a folder" % (c["src"], c["dst"]))
        self.known_dups = known
        return []

    def files(self):
        nf = set(self.r["no_face"])
        for x in self.p["noface"]:
            self.verdict(x in nf, "no_face: %s listed" % x)
        errs = {e["path"] for e in self.r["errors"]}
        for x in self.p["broken"]:
            self.verdict(x in errs, "errors: %s listed" % x)

    def control_check(self, unplanted_pairs, unplanted_merges, unplanted_outliers):
        """A control folder may be named as the look-alike of another
        folder's outlier, but no finding may be about its own files."""
        named = []
        outlier_files = {o["path"] for o in self.r["outliers"]}
        for _, p in unplanted_pairs:
            if p["path1"] in outlier_files or p["path2"] in outlier_files:
                continue
            named += [f for f in (p["folder1"], p["folder2"]) if f in self.control]
        for _, m in unplanted_merges:
            named += [f for f in (m["folder1"], m["folder2"]) if f in self.control]
        for _, o in unplanted_outliers:
            named += [o["folder"]] if o["folder"] in self.control else []
        for d in self.r["duplicates"]:
            named += [f["folder"] for f in d["files"] if f["folder"] in self.control]
        self.info("control folders named by findings: %d %s" % (len(named), sorted(set(named))))
        if self.a.strict_control:
            self.verdict(not named, "control folders %s appear in no finding" % sorted(self.control))

    def run(self):
        up = self.pairs()
        um = self.merges()
        uo = self.outliers()
        self.dups()
        self.files()
        self.control_check(up, um, uo)
        # One finding per misfiled-looking face: a strong pair whose face is
        # also an outlier is the same finding as that outlier.
        outlier_files = {o["path"] for _, o in uo}
        lone = [p for _, p in up if p["path1"] not in outlier_files and p["path2"] not in outlier_files]
        n = self.n_images
        total = len(lone) + len(um) + len(uo)
        per100 = 100.0 * total / n if n else 0
        rows = len(up) + len(um) + len(uo)
        self.info("unplanted findings: outliers %d + strong pairs of no outlier %d + suggested merges %d = %d "
                  "over %d images (%.2f per 100)" % (len(uo), len(lone), len(um), total, n, per100))
        self.info("unplanted rows: strong pairs %d, suggested merges %d, outliers %d = %d (%.2f per 100 images); "
                  "about the dataset's own duplicate files: pairs %d, outliers %d; its duplicate groups %d"
                  % (len(up), len(um), len(uo), rows, 100.0 * rows / n if n else 0, len(self.known_pairs),
                     len(self.known_outliers), len(self.known_dups)))
        for rk, p in up[:10]:
            self.info("  unplanted pair %d: %s %s %s rel %.2f" % (rk, p["path1"], p["path2"], p["kind"], p["rel"]))
        for rk, o in uo[:10]:
            self.info("  unplanted outlier %d: %s best %s" % (rk, o["path"], o["best_folder"]))
        if self.a.max_unplanted_per_100 is not None:
            self.verdict(per100 < self.a.max_unplanted_per_100, "unplanted findings %.2f per 100 images < %g"
                         % (per100, self.a.max_unplanted_per_100))

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("report"); ap.add_argument("plan")
    ap.add_argument("--strict-control", action="store_true")
    ap.add_argument("--top-slack", type=int, default=0)
    ap.add_argument("--max-unplanted-per-100", type=float)
    a = ap.parse_args()
    with open(a.report, encoding="utf-8") as f:
        rep = json.load(f)
    with open(a.plan, encoding="utf-8") as f:
        plan = json.load(f)
    Checker(rep, plan, a).run()

if __name__ == "__main__":
    main()
