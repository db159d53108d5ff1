#!/usr/bin/env bash
# test_audit_html.sh - report.html of `faceaudit audit` in headless Chromium:
# the page loads offline, every thumbnail decodes, the expected rows are
# there, a file name made of HTML stays text, and a screenshot is taken
# (kept in $FA_TEST_SCREENSHOT_DIR when set). Needs Debian's `chromium`
# (apt-get install -y chromium); skipped, as passed, when it is missing.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
    echo "SKIP: no chromium (apt-get install -y chromium)"
    finish
    exit 0
fi

# A small tree: 4 people, one photo moved, one copied under a name that is HTML.
mkdir -p "$T/src"
for d in Irene Seulgi Yeji Umji; do cp -r "$FACES/kpop_idols/$d" "$T/src/"; done
"$PY" "$HERE/audit_plant.py" "$T/src" "$T/tree" "$T/plan.json" --subset 6 --rename 'Umji:ウムジ' \
    --move Yeji:Irene:1 --copy Irene:Seulgi --within Yeji
evil='<img src=x onerror="document.title=1">.jpg'
dst=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["copied"][0]["dst"])' "$T/plan.json")
mv "$T/tree/$dst" "$T/tree/Seulgi/$evil"
"$FA" index "$T/tree" -o "$T/c" -q >/dev/null 2>&1
"$FA" audit "$T/c" -o "$T/out" -q >"$T/summary.txt"
check "report.html written" test -s "$T/out/report.html"
npairs=$("$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); print(len(r["pairs"]), len(r["duplicates"]), len(r["outliers"]), len(r["merges"]), len(r["findings"]), r["findings"][0]["id"] if r["findings"] else "-")' "$T/out/report.json")
read -r np nd no nm nf fid <<<"$npairs"

# The page as Chromium sees it: a probe appended to a copy counts what loaded.
cp "$T/out/report.html" "$T/probe.html"
cat >>"$T/probe.html" <<'JS'
<script>
window.addEventListener("load", () => {
  const imgs = [...document.images];
  const ok = imgs.filter(i => i.complete && i.naturalWidth > 0 && i.src.startsWith("data:image/jpeg")).length;
  const q = s => document.querySelectorAll(s).length;
  const p = document.createElement("pre");
  p.id = "fa-probe";
  p.textContent = `images ${imgs.length} loaded ${ok} pairs ${q("tr.pair")} dups ${q("tr.dup")} ` +
    `outliers ${q("tr.outlier")} merges ${q("tr.merge")} cards ${q("div.card")} ` +
    `cardthumbs ${q("div.card img.thumb")} first ${(document.querySelector("div.card") || {}).id} ` +
    `injected ${q("img[onerror]")} title ${document.title}`;
  document.body.appendChild(p);
});
</script>
JS
run_chromium() { timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --no-first-run --user-data-dir="$T/chrome" "$@" 2>/dev/null; }
dom=$(run_chromium --virtual-time-budget=10000 --dump-dom "file://$T/probe.html")
probe=$(sed -n 's/.*<pre id="fa-probe">\([^<]*\)<\/pre>.*/\1/p' <<<"$dom")
echo "  chromium: $probe"
read -r _ nimg _ nloaded _ hp _ hd _ ho _ hm _ hc _ hct _ hfirst _ inj _ title <<<"$probe"
check "chromium loaded the page" test -n "$probe"
check "the page has thumbnails" test "${nimg:-0}" -gt 0
check_eq "every thumbnail decoded" "${nloaded:-x}" "${nimg:-y}"
check_eq "a row per pair" "${hp:-}" "$np"
check_eq "a row per duplicate group" "${hd:-}" "$nd"
check_eq "a row per outlier" "${ho:-}" "$no"
check_eq "a row per folder pair" "${hm:-}" "$nm"
check_eq "a card per finding" "${hc:-}" "$nf"
check "every card shows faces (the face and its folders' strips)" test "${hct:-0}" -ge "$((2 * nf))"
check_eq "the first card is the first finding" "${hfirst:-}" "$fid"
check_eq "a file name made of HTML stays text" "${inj:-x}" 0
check_eq "no script from a file name ran" "${title:-}" "faceaudit audit"
check_contains "the HTML file name shows as text" "$dom" '&lt;img src=x onerror="document.title=1"&gt;.jpg'
check_contains "the copy is an identical-file pair" "$dom" 'data-kind="identical_file"'
check_contains "Japanese file name shown" "$dom" "(コピー).jpg"

# A screenshot of the report as a reader sees it.
shots=${FA_TEST_SCREENSHOT_DIR:-$T}
mkdir -p "$shots"
run_chromium --window-size=1280,2400 --screenshot="$shots/audit_report.png" "file://$T/out/report.html" >/dev/null
check "screenshot taken" test -s "$shots/audit_report.png"
check_eq "screenshot is a PNG" "$(head -c 8 "$shots/audit_report.png" | od -An -tx1 | tr -d ' ')" 89504e470d0a1a0a
[ -n "${FA_TEST_SCREENSHOT_DIR:-}" ] && echo "  screenshot: $shots/audit_report.png"
finish
