#!/usr/bin/python3
"""review_open.py - how fast `faceaudit review` opens on a real cache, and
what the page weighs. Copies CACHE (review writes CACHE/thumbs), audits the
copy, starts review, opens the page in headless Chromium and measures:
  start     review started -> URL printed (loads the cache and findings)
  ready     navigation -> findings listed (page, app.js, app.css, /api/state)
  faces     navigation -> every image of the first finding decoded, thumbnails
            cut from the originals (cold), then again with CACHE/thumbs (warm)
  weight    bytes of the page, its script and style, the state JSON and the
            first finding's images
Runs RUNS times (default 3) and prints medians. The machine is shared: figures
are noisy.

usage: review_open.py FACEAUDIT CACHE [RUNS]
"""
import http.client, json, os, re, shutil, statistics, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "cli"))

FA, CACHE = sys.argv[1], sys.argv[2]
RUNS = int(sys.argv[3]) if len(sys.argv) > 3 else 3

def browser(tmp):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1360,1000",
              "--no-proxy-server", "--disk-cache-size=1", "--user-data-dir=" + os.path.join(tmp, "chrome")]:
        o.add_argument(a)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)

def size(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port)
    c.request("GET", path)
    n = len(c.getresponse().read())
    c.close()
    return n

def one_open(d, url):
    d.get("about:blank")
    d.get(url)
    t = time.time()
    while not d.execute_script("return document.body && document.body.classList.contains('ready')"):
        time.sleep(0.01)
    ready = d.execute_script("return performance.now()")
    while not d.execute_script("return [...document.images].length > 0 && [...document.images].every(i => i.complete)"):
        if time.time() - t > 120:
            raise SystemExit("images did not load")
        time.sleep(0.01)
    faces = d.execute_script("return performance.now()")
    return ready, faces

def main():
    tmp = tempfile.mkdtemp(prefix="fa-review-bench-")
    try:
        cache = os.path.join(tmp, "cache")
        shutil.copytree(CACHE, cache, symlinks=True)
        for junk in ("thumbs", "decisions.tsv"):
            p = os.path.join(cache, junk)
            shutil.rmtree(p, ignore_errors=True) if os.path.isdir(p) else (os.path.exists(p) and os.remove(p))
        t = time.time()
        subprocess.run([FA, "audit", cache, "-q", "-o", os.path.join(tmp, "audit"), "--html-limit", "0"],
                       check=True, stdout=subprocess.DEVNULL)
        audit_s = time.time() - t
        info = subprocess.run([FA, "info", cache], capture_output=True, text=True).stdout
        files = re.search(r"^files\s+(\d+)", info, re.M).group(1)
        n_find = len(json.load(open(os.path.join(cache, "findings.json")))["findings"])
        starts, readies, colds, warms = [], [], [], []
        weight = None
        d = browser(tmp)
        try:
            for _ in range(RUNS):
                shutil.rmtree(os.path.join(cache, "thumbs"), ignore_errors=True)
                t = time.time()
                p = subprocess.Popen([FA, "review", cache, "--port", "0"], stdout=subprocess.PIPE, text=True)
                m = None
                while not m:
                    line = p.stdout.readline()
                    if not line:
                        raise SystemExit("review did not start")
                    m = re.search(r"(http://127\.0\.0\.1:(\d+)/\?t=([0-9a-f]{32}))", line)
                starts.append(time.time() - t)
                url, port, tok = m.group(1), int(m.group(2)), m.group(3)
                try:
                    ready, cold = one_open(d, url)
                    _, warm = one_open(d, url)
                    readies.append(ready), colds.append(cold), warms.append(warm)
                    if weight is None:
                        imgs = d.execute_script("return [...document.images].map(i => new URL(i.src).pathname + new URL(i.src).search)")
                        weight = {"page": size(port, "/?t=" + tok), "app.js": size(port, "/app.js?t=" + tok),
                                  "app.css": size(port, "/app.css?t=" + tok), "state": size(port, "/api/state?t=" + tok),
                                  "images": sum(size(port, u) for u in imgs), "n_images": len(imgs)}
                finally:
                    p.terminate()
                    p.wait()
        finally:
            d.quit()
        med = statistics.median
        print(f"cache {CACHE}: {files} files, {n_find} findings (audit {audit_s:.1f} s); {RUNS} runs, medians")
        print(f"  review start (cache + findings loaded, URL printed): {med(starts) * 1000:.0f} ms")
        print(f"  page ready (findings listed):                          {med(readies):.0f} ms")
        print(f"  first finding's {weight['n_images']} faces shown, thumbnails cold:     {med(colds):.0f} ms")
        print(f"  the same with CACHE/thumbs warm:                       {med(warms):.0f} ms")
        code = weight["page"] + weight["app.js"] + weight["app.css"]
        print(f"  page weight: HTML+JS+CSS {code / 1024:.1f} KiB, state JSON {weight['state'] / 1024:.1f} KiB, "
              f"first view's images {weight['images'] / 1024:.1f} KiB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

main()
