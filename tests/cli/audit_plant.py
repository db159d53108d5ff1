#!/usr/bin/python3
"""audit_plant.py - builds a dataset tree with planted filing errors for the
audit tests, and writes what was planted to a JSON file for audit_check.py.

usage: audit_plant.py SRC DST PLAN.json [--link] [--subset N] [--manifest TSV]
                      [--split F] [--move A:B:N] [--copy A:B] [--reencode A:B] [--resize A:B]
                      [--within F] [--recrop F] [--control F,...] [--rename OLD:NEW]
                      [--add FILE:FOLDER/NAME] [--noface FOLDER/NAME] [--broken FOLDER/NAME]

  --link       hard-link the tree (cp -al) instead of copying: cheap for big
               datasets, and files keep their bytes, so an index that starts
               from the dataset's cache reuses every embedding by content
  --subset N   keep the first N files of each folder (sorted by name)
  --manifest   the dataset's manifest.tsv: planted photos are picked among
               files with exactly one face (and no byte-identical twin)
  --split F    moves the last third of F's photos to a new folder 'F, "2"'
  --move A:B:N moves N photos of A into B (renamed '<stem>, moved.<ext>')
  --copy A:B   copies one photo of A into B, byte for byte
  --reencode A:B  re-encodes one photo of A as JPEG (quality 90) into B
  --resize A:B    one photo of A (or the photo A = FOLDER/FILE) scaled to 80%,
               JPEG quality 75, into B as
               "<stem> (small).jpg" (the detector's box then sits elsewhere
               on the face: the same photo must still be told by its pixels)
  --within F   copies one photo of F into F as "<stem> (コピー).<ext>"
  --recrop F   another crop of one photo of F into F: 5% cut off the left
               and top, scaled to 90%, JPEG quality 85, as "<stem> (crop).jpg"
  --control    folders left alone: no finding may name them
Photos are picked deterministically: the middle of the candidates, so that
every plant uses a different file.
"""
import argparse, json, os, shutil, subprocess, sys

def files_of(root, folder):
    d = os.path.join(root, folder)
    return sorted(f for f in os.listdir(d) if not f.startswith(".") and os.path.isfile(os.path.join(d, f)))

def load_manifest(path):
    """rel path -> (nfaces, sha256) from a manifest.tsv."""
    info = {}
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        head = f.readline().rstrip("\n").split("\t")
        col = {k: i for i, k in enumerate(head)}
        for line in f:
            r = line.rstrip("\n").split("\t")
            info[r[col["path"]]] = (int(r[col["nfaces"]]), r[col["status"]], r[col["sha256"]])
    return info

class Planter:
    def __init__(self, a):
        self.a, self.dst, self.used = a, a.dst, set()
        self.orig = {}   # planted rel path -> the dataset's rel path (for the manifest)
        self.info = load_manifest(a.manifest) if a.manifest else None
        self.plan = {"split": [], "moved": [], "copied": [], "reencoded": [], "resized": [], "within": [], "recropped": [],
                     "control": [], "renamed": [], "noface": [], "broken": [], "added": []}
        if self.info:
            count = {}
            for p, (_, _, sha) in self.info.items():
                count[sha] = count.get(sha, 0) + 1
            self.twins = {p for p, (_, _, sha) in self.info.items() if count[sha] > 1}

    def good(self, folder, name):
        rel = folder + "/" + name
        if rel in self.used:
            return False
        if self.info is None:
            return True
        src_rel = self.orig.get(rel, rel)
        i = self.info.get(src_rel)
        return i is not None and i[0] == 1 and i[1] == "ok" and src_rel not in self.twins

    def pick(self, folder, n=1):
        c = [f for f in files_of(self.dst, folder) if self.good(folder, f)]
        if len(c) < n:
            sys.exit("audit_plant: not enough usable photos in %s" % folder)
        mid = len(c) // 2
        chosen = (c[mid:] + c[:mid])[:n]
        for f in chosen:
            self.used.add(folder + "/" + f)
        return chosen

    def build(self):
        a = self.a
        if os.path.exists(self.dst):
            shutil.rmtree(self.dst)
        if a.link:
            subprocess.run(["cp", "-al", a.src, self.dst], check=True)
        else:
            shutil.copytree(a.src, self.dst)
        for folder in sorted(os.listdir(self.dst)):
            if a.subset and os.path.isdir(os.path.join(self.dst, folder)):
                for f in files_of(self.dst, folder)[a.subset:]:
                    os.unlink(os.path.join(self.dst, folder, f))
        for spec in a.rename:
            old, new = spec.split(":")
            os.rename(os.path.join(self.dst, old), os.path.join(self.dst, new))
            self.plan["renamed"].append({"from": old, "to": new})
            self.orig.update({new + "/" + f: old + "/" + f for f in files_of(self.dst, new)})
        for f in a.split: self.split(f)
        for s in a.move: self.move(*s.split(":"))
        for s in a.copy: self.copy(*s.split(":"))
        for s in a.reencode: self.reencode(*s.split(":"))
        for s in a.resize: self.resize(*s.split(":"))
        for f in a.within: self.within(f)
        for f in a.recrop: self.recrop(f)
        for s in a.add: self.add(*s.split(":"))
        for s in a.noface: self.noface(s)
        for s in a.broken: self.broken(s)
        self.plan["control"] = [c for s in a.control for c in s.split(",")]
        with open(a.plan, "w", encoding="utf-8") as f:
            json.dump(self.plan, f, ensure_ascii=False, indent=1)

    def relocate(self, src_rel, dst_rel, how):
        s, d = os.path.join(self.dst, src_rel), os.path.join(self.dst, dst_rel)
        os.makedirs(os.path.dirname(d), exist_ok=True)
        if how == "move":
            os.rename(s, d)
        elif self.a.link:
            os.link(s, d)
        else:
            shutil.copyfile(s, d)
        self.orig[dst_rel] = self.orig.get(src_rel, src_rel)
        self.used.add(dst_rel)

    def split(self, folder):
        names = files_of(self.dst, folder)
        moved = names[len(names) - len(names) // 3:]
        new = folder + ', "2"'
        for f in moved:
            self.relocate(folder + "/" + f, new + "/" + f, "move")
        self.plan["split"].append({"folder": folder, "new": new, "files": moved})

    def move(self, a, b, n):
        for f in self.pick(a, int(n)):
            stem, ext = os.path.splitext(f)
            dst = b + "/" + stem + ", moved" + ext
            self.relocate(a + "/" + f, dst, "move")
            self.plan["moved"].append({"path": dst, "from": a, "to": b, "was": a + "/" + f})

    def copy(self, a, b):
        f = self.pick(a)[0]
        self.relocate(a + "/" + f, b + "/" + f, "copy")
        self.plan["copied"].append({"src": a + "/" + f, "dst": b + "/" + f})

    def reencode(self, a, b):
        from PIL import Image
        f = self.pick(a)[0]
        dst = b + "/" + os.path.splitext(f)[0] + " re-encoded.jpg"
        Image.open(os.path.join(self.dst, a, f)).convert("RGB").save(os.path.join(self.dst, dst), quality=90)
        self.used.add(dst)
        self.plan["reencoded"].append({"src": a + "/" + f, "dst": dst})

    def resize(self, a, b):
        from PIL import Image
        if "/" in a:                      # a given photo: FOLDER/FILE
            a, f = a.split("/", 1)
            self.used.add(a + "/" + f)
        else:
            f = self.pick(a)[0]
        dst = b + "/" + os.path.splitext(f)[0] + " (small).jpg"
        im = Image.open(os.path.join(self.dst, a, f)).convert("RGB")
        im = im.resize((im.width * 4 // 5, im.height * 4 // 5), Image.LANCZOS)
        im.save(os.path.join(self.dst, dst), quality=75)
        self.used.add(dst)
        self.plan["resized"].append({"src": a + "/" + f, "dst": dst})

    def within(self, folder):
        f = self.pick(folder)[0]
        stem, ext = os.path.splitext(f)
        dst = folder + "/" + stem + " (コピー)" + ext
        self.relocate(folder + "/" + f, dst, "copy")
        self.plan["within"].append({"src": folder + "/" + f, "dst": dst})

    def recrop(self, folder):
        from PIL import Image
        f = self.pick(folder)[0]
        dst = folder + "/" + os.path.splitext(f)[0] + " (crop).jpg"
        im = Image.open(os.path.join(self.dst, folder, f)).convert("RGB")
        w, h = im.size
        im = im.crop((w // 20, h // 20, w, h))
        im = im.resize((im.width * 9 // 10, im.height * 9 // 10), Image.BILINEAR)
        im.save(os.path.join(self.dst, dst), quality=85)
        self.used.add(dst)
        self.plan["recropped"].append({"src": folder + "/" + f, "dst": dst})

    def add(self, src, dst_rel):
        os.makedirs(os.path.dirname(os.path.join(self.dst, dst_rel)), exist_ok=True)
        shutil.copyfile(src, os.path.join(self.dst, dst_rel))
        self.plan["added"].append(dst_rel)

    def noface(self, rel):
        from PIL import Image
        Image.new("RGB", (200, 160), (120, 160, 200)).save(os.path.join(self.dst, rel), quality=90)
        self.plan["noface"].append(rel)

    def broken(self, rel):
        with open(os.path.join(self.dst, rel), "wb") as f:
            f.write(b"\xff\xd8\xff\xe0 this is not really a JPEG")
        self.plan["broken"].append(rel)

def main():
    p = argparse.ArgumentParser()
    p.add_argument("src"); p.add_argument("dst"); p.add_argument("plan")
    p.add_argument("--link", action="store_true")
    p.add_argument("--subset", type=int, default=0)
    p.add_argument("--manifest")
    for opt in ("split", "move", "copy", "reencode", "resize", "within", "recrop", "control", "rename", "add", "noface", "broken"):
        p.add_argument("--" + opt, action="append", default=[])
    Planter(p.parse_args()).build()

if __name__ == "__main__":
    main()
