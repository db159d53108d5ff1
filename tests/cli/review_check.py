#!/usr/bin/python3
"""review_check.py - drives `faceaudit review` for test_review.sh: the HTTP
safety rules with plain requests, then the page in headless Chromium
(selenium + chromedriver). Prints one "ok ..." or "FAIL ..." line per check
and exits 1 when any failed.

usage: review_check.py FACEAUDIT CACHE SHOTS_DIR all SHARED_DECISIONS
With CACHE/findings.json from a real audit, one server and one browser:
  http     token, Host, Origin, Sec-Fetch-Site, image ids, loopback only
  reaudit  reject / accept two of the real audit's findings with the keyboard,
           audit again: the rejected one has left the list; then
           CACHE/decisions.tsv moves to SHARED_DECISIONS and make_findings.py
           writes one finding of each kind (the server reloads it)
  decide   decide the five findings with the keyboard, reload, check them
FA_NO_BROWSER=1: the http part only.
"""
import http.client, json, os, re, socket, subprocess, sys, time

FA, CACHE, SHOTS, STEP = sys.argv[1:5]
failed = 0

def check(what, cond, detail=""):
    global failed
    print(("ok   " if cond else "FAIL ") + what + ("" if cond else f": {detail}"), flush=True)
    failed += 0 if cond else 1

def start():
    p = subprocess.Popen([FA, "review", CACHE, "--port", "0"], stdout=subprocess.PIPE, text=True)
    for _ in range(200):
        line = p.stdout.readline()
        m = re.search(r"(http://127\.0\.0\.1:(\d+)/\?t=([0-9a-f]{32}))", line)
        if m:
            return p, m.group(1), int(m.group(2)), m.group(3)
        if not line:
            break
    p.kill()
    sys.exit("FAIL review did not print its URL")

def req(port, method, path, headers=None, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    h = {"Host": f"127.0.0.1:{port}"}
    h.update(headers or {})
    for k, v in h.items():
        if v is not None:
            c.putheader(k, v)
    data = body.encode() if body else b""
    if method == "POST":
        c.putheader("Content-Length", str(len(data)))
    c.endheaders(data)
    r = c.getresponse()
    out = (r.status, r.getheader("Content-Type") or "", r.read())
    c.close()
    return out

def non_loopback_ip():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("10.255.255.255", 1))   # no packet is sent: picks the outgoing address
        ip = s.getsockname()[0]
    except OSError:
        ip = None
    finally:
        s.close()
    return None if not ip or ip.startswith("127.") else ip

def step_http(port, tok):
    st, _, _ = req(port, "GET", "/")
    check("GET / without the token is 403", st == 403, st)
    st, _, _ = req(port, "GET", "/api/state?t=" + "0" * 32)
    check("a wrong token is 403", st == 403, st)
    st, ct, body = req(port, "GET", "/api/state?t=" + tok)
    check("GET /api/state with the token is 200 JSON", st == 200 and ct.startswith("application/json"), (st, ct))
    state = json.loads(body)
    st, _, _ = req(port, "GET", "/?t=" + tok, {"Host": "evil.example"})
    check("a foreign Host header (DNS rebinding) is 403", st == 403, st)
    st, ct, page = req(port, "GET", "/?t=" + tok)
    check("the page is served with the token", st == 200 and tok.encode() in page and b"<script src=\"/app.js" in page, st)
    f = state["findings"][0]
    body = json.dumps({"id": f["id"], "decision": "skip"})
    j = {"Content-Type": "application/json"}
    st, _, _ = req(port, "POST", "/api/decide", dict(j), body)
    check("POST without the token is 403", st == 403, st)
    st, _, _ = req(port, "POST", "/api/decide?t=" + tok, dict(j), body)
    check("POST with the token only in the URL is 403", st == 403, st)
    st, _, msg = req(port, "POST", "/api/decide", dict(j, **{"X-FA-Token": tok, "Origin": "http://evil.example"}), body)
    check("a cross-origin POST is 403", st == 403 and b"cross-origin" in msg, (st, msg))
    st, _, _ = req(port, "POST", "/api/decide", dict(j, **{"X-FA-Token": tok, "Sec-Fetch-Site": "cross-site"}), body)
    check("a cross-site POST (Sec-Fetch-Site) is 403", st == 403, st)
    st, _, _ = req(port, "POST", "/api/decide", {"X-FA-Token": tok, "Content-Type": "text/plain"}, body)
    check("a POST that is not JSON (form-like) is 403", st == 403, st)
    st, _, _ = req(port, "GET", "/api/decide?t=" + tok)
    check("GET cannot decide", st == 404, st)
    n_before = len(open(os.path.join(CACHE, "decisions.tsv")).read().splitlines()) if os.path.exists(os.path.join(CACHE, "decisions.tsv")) else 0
    check("refused requests wrote no decision", n_before == 0, n_before)
    for bad in ["/img/../../../../etc/passwd", "/img/%2e%2e/%2e%2e/etc/passwd", "/img//etc/passwd",
                "/img/%2Fetc%2Fpasswd", "/img/-1", "/img/1e3", "/img/99999999", "/../../etc/passwd",
                "/img/" + f["files"][0]["path"]]:
        st, ct, data = req(port, "GET", bad + ("&" if "?" in bad else "?") + "t=" + tok)
        check(f"image URL {bad!r} is refused", st in (400, 403, 404) and b"root:" not in data and not ct.startswith("image/"), (st, ct))
    n = f["files"][0]["img"]
    st, ct, data = req(port, "GET", f"/img/{n}?s=160&t={tok}")
    check("an image by number is a JPEG", st == 200 and ct == "image/jpeg" and data[:2] == b"\xff\xd8", (st, ct))
    st, _, _ = req(port, "GET", f"/img/{n}?s=161&t={tok}")
    check("an odd thumbnail size is refused", st == 400, st)
    st, _, _ = req(port, "GET", f"/img/{n}?s=160")
    check("an image without the token is 403", st == 403, st)
    thumbs = os.listdir(os.path.join(CACHE, "thumbs"))
    check("the thumbnail is kept in CACHE/thumbs", any(t.endswith("-160.jpg") for t in thumbs), thumbs)
    ip = non_loopback_ip()
    if ip is None:
        print("skip: no non-loopback address to try")
    else:
        try:
            socket.create_connection((ip, port), timeout=3).close()
            reached = True
        except OSError:
            reached = False
        check(f"not reachable on {ip}", not reached)
    st, _, _ = req(port, "DELETE", "/?t=" + tok)
    check("other methods are refused", st == 405, st)

def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    o = webdriver.ChromeOptions()
    o.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1360,1000",
              "--no-proxy-server", "--disable-extensions", "--user-data-dir=" + os.path.join(SHOTS, ".chrome")]:
        o.add_argument(a)
    return webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=o)

def wait(d, cond, what, timeout=20):
    t = time.time()
    while time.time() - t < timeout:
        try:
            v = cond(d)
            if v:
                return v
        except Exception:
            pass
        time.sleep(0.05)
    check(what, False, "timed out")
    return None

def text(d, id_):
    return d.find_element("id", id_).text

def keys(d, k):
    from selenium.webdriver.common.action_chains import ActionChains
    ActionChains(d).send_keys(k).perform()

def imgs_loaded(d):
    return d.execute_script("return [...document.images].every(i => i.complete) && "
                            "[...document.images].filter(i => i.naturalWidth > 0).length")

def shot(d, name):
    p = os.path.join(SHOTS, name)
    d.save_screenshot(p)
    print("screenshot " + p)

def step_decide(d, url):
    if True:
        d.get(url)
        wait(d, lambda d: "ready" in d.find_element("tag name", "body").get_attribute("class"), "page loads")
        total = len(d.execute_script("return state.findings"))
        check("count shows 0 decided", text(d, "count") == f"0 / {total} decided", text(d, "count"))
        wait(d, imgs_loaded, "images load")
        bad = d.execute_script("return [...document.images].filter(i => i.naturalWidth === 0).length")
        check("every image of the first finding decodes", bad == 0, bad)
        shot(d, "review-one.png")
        order = d.execute_script("return list.map(f => f.kind)")
        check("findings come in rank order", order[:2] == ["misfiled", "same_identity"], order)
        def current():
            return d.find_element("id", "finding").get_attribute("data-id")
        ids = d.execute_script("return list.map(f => f.id)")
        decided = lambda n: (lambda d: text(d, "count").startswith(f"{n} / "))
        keys(d, "y"); wait(d, decided(1), "y accepts")
        keys(d, "n"); wait(d, decided(2), "n rejects")
        keys(d, "s"); wait(d, decided(3), "s skips")
        check("after three decisions the fourth finding shows", current() == ids[3], current())
        keys(d, "u"); wait(d, decided(2), "u undoes")
        check("undo goes back to the undone finding", current() == ids[2], current())
        keys(d, "y"); wait(d, decided(3), "y accepts the duplicate")
        check("a split shows the name box", current() == ids[3] and d.find_elements("id", "splitname"), current())
        # its one-face cluster is a face alone (it may be anyone), not "another person"
        heads = [e.text for e in d.find_elements("css selector", "#finding .cluster h3")]
        check("a split's single face is shown as a face alone (captioned), not as another person",
              any(h.startswith("1 face alone") for h in heads) and not any(h.startswith("another person") for h in heads)
              and d.find_elements("css selector", "#finding .cluster.alone figcaption"), heads)
        wait(d, imgs_loaded, "split images load")
        shot(d, "review-split.png")
        keys(d, "y")
        wait(d, lambda d: "new folder" in text(d, "toast"), "accepting a split without a name asks for one")
        check("a split is not accepted without a name", text(d, "count").startswith("3 / "), text(d, "count"))
        box = d.find_element("id", "splitname")
        box.click()
        box.send_keys("Obama's double\n")
        wait(d, decided(4), "the split is accepted with its name")
        keys(d, "?")
        wait(d, lambda d: d.find_element("id", "help").is_displayed(), "? shows the help")
        shot(d, "review-help.png")
        keys(d, "?")
        wait(d, lambda d: not d.find_element("id", "help").is_displayed(), "? hides the help")
        keys(d, "y"); wait(d, decided(5), "the last one is accepted")
        check("nothing left to decide", "Nothing left" in text(d, "main"), text(d, "main")[:200])
        d.refresh()
        wait(d, lambda d: "ready" in d.find_element("tag name", "body").get_attribute("class"), "page reloads")
        check("decisions are kept after a reload", text(d, "count") == f"5 / {total} decided", text(d, "count"))
        got = d.execute_script("return Object.fromEntries(state.findings.map(f => [f.kind, f.decision + ':' + f.arg]))")
        want = {"misfiled": "accept:", "same_identity": "reject:", "duplicate": "accept:",
                "mixed_folder": "accept:Obama's double", "stray": "accept:"}
        check("each finding has its decision", all(got.get(k) == v for k, v in want.items()), got)
        from selenium.webdriver.support.ui import Select
        Select(d.find_element("id", "f-status")).select_by_value("reject")
        check("the rejected finding is listed apart", d.execute_script("return list.length") == 1)
        Select(d.find_element("id", "f-status")).select_by_value("all")
        keys(d, "g")
        wait(d, lambda d: len(d.find_elements("css selector", ".grid .cell")) == total, "g shows the grid")
        wait(d, imgs_loaded, "grid images load")
        shot(d, "review-grid.png")
        Select(d.find_element("id", "f-kind")).select_by_value("duplicate")
        check("the kind filter keeps one kind", d.execute_script("return list.every(f => f.kind === 'duplicate') && list.length > 0"))
        logs = [l for l in d.get_log("browser") if l["level"] == "SEVERE"]
        check("no errors in the browser console", not logs, logs[:3])

def step_reaudit(d, url):
    """Reject the first finding of the real audit's review list and accept the
    second with the keyboard, audit again, reload: the rejected one has left
    the list (listed apart), the accepted one stays."""
    if True:
        d.get(url)
        wait(d, lambda d: "ready" in d.find_element("tag name", "body").get_attribute("class"), "page loads")
        ids = d.execute_script("return list.map(f => f.id)")
        check("the real audit gives two findings to review", len(ids) >= 2, ids)
        if len(ids) < 2:
            return
        wait(d, imgs_loaded, "images load")
        keys(d, "n")
        wait(d, lambda d: text(d, "count").startswith("1 / "), "n rejects")
        keys(d, "y")
        wait(d, lambda d: text(d, "count").startswith("2 / "), "y accepts")
        r = subprocess.run([FA, "audit", CACHE, "-q", "--html-limit", "0", "-o", os.path.join(SHOTS, ".audit")],
                           capture_output=True, text=True)
        check("audit again exits 0", r.returncode == 0, r.stderr)
        check("audit says what the decisions changed", "1 accepted (kept in the review list), 1 rejected" in r.stdout, r.stdout)
        fs = json.load(open(os.path.join(CACHE, "findings.json")))["findings"]
        by = {f["id"]: f for f in fs}
        check("the rejected finding is out of the review list, at its end",
              ids[0] in by and not by[ids[0]]["review"] and fs[-1]["id"] == ids[0], [f["id"] for f in fs])
        check("the accepted finding stays in the review list", ids[1] in by and by[ids[1]]["review"])
        d.refresh()
        wait(d, lambda d: "ready" in d.find_element("tag name", "body").get_attribute("class"), "page reloads")
        from selenium.webdriver.support.ui import Select
        Select(d.find_element("id", "f-status")).select_by_value("open")
        shown = d.execute_script("return list.map(f => f.id)")
        check("after the re-audit the rejected finding is gone from the list", ids[0] not in shown, shown)
        Select(d.find_element("id", "f-status")).select_by_value("reject")
        check("and listed apart", d.execute_script("return list.map(f => f.id)") == [ids[0]])
        wait(d, imgs_loaded, "images load")
        shot(d, "review-reaudit.png")

def step_all(url, port, tok):
    """The HTTP rules, the re-audit on the real findings, then (the server
    reloads findings.json) the five generated findings decided by keyboard."""
    step_http(port, tok)
    if os.environ.get("FA_NO_BROWSER"):
        return
    d = browser()
    try:
        step_reaudit(d, url)
        os.replace(os.path.join(CACHE, "decisions.tsv"), SHARED_DECISIONS)
        r = subprocess.run(["/usr/bin/python3", os.path.join(os.path.dirname(os.path.abspath(__file__)), "make_findings.py"),
                            CACHE], capture_output=True, text=True)
        check("make_findings.py writes five findings", r.stdout.strip() == "5", r.stdout + r.stderr)
        step_decide(d, url)
    finally:
        d.quit()

SHARED_DECISIONS = sys.argv[5] if len(sys.argv) > 5 else os.path.join(SHOTS, "shared-decisions.tsv")
p, url, port, tok = start()
try:
    step_all(url, port, tok)
finally:
    p.terminate()
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = -9
    check("review stops cleanly on SIGTERM", rc == 0, rc)
sys.exit(1 if failed else 0)
