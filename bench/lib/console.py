"""S12: the web console in Chromium on loopback (BENCHMARKS.md) — first load to interactive, and
the JS and CSS it ships.

The measuring is bench/console/s12.mjs (Debian's node, playwright-core from web/node_modules,
Debian's Chromium): it starts its own `vigil serve` and browser, loads the sign-in page and a
signed-in user's models page in fresh contexts, and prints one JSON line. This runs it in its own
process group, reads that line and turns it into the results' tables and goals.
"""
import json
import os
import signal
import subprocess
from pathlib import Path

import servers
from report import Section, yes_no
from servers import BenchError

SCRIPT = servers.REPO / "bench" / "console" / "s12.mjs"
DEFAULT_NODE = Path("/usr/bin/node")  # Debian's, as web/ asks (engines: node >= 20.19)
DEFAULT_CHROMIUM = Path("/usr/bin/chromium")
DEFAULT_WEB = servers.REPO / "web"
DEFAULT_RUNS = 20
# The pages in the order of the tables (the floor: a static page with the same probe as sign-in,
# what any first interactive page costs in this browser here), and the phases of a load shown per
# page (the script names them in its JSON too).
PAGES = ("sign-in", "models", "floor")
CONSOLE_PAGES = ("sign-in", "models")
PHASES = ("html", "css", "js", "app", "dcl", "me_sent", "me", "list_sent", "list", "fcp", "shown",
          "interactive")


def argv(args):
    """The command line of bench/console/s12.mjs for these options."""
    return [str(args.node), str(SCRIPT), "--vigil", str(args.vigil), "--web", str(args.web),
            "--chromium", str(args.chromium), "--runs", str(args.s12_runs)]


def parse_result(text):
    """The S12 JSON line of the script's stdout (its last line that is one); BenchError if none."""
    for line in reversed(text.splitlines()):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict) and doc.get("scenario") == "S12":
            return doc
    raise BenchError(f"S12: no result line from {SCRIPT.name}:\n{text[-2000:]}")


def require(args):
    """Node, the script and Chromium are there; playwright-core is checked by the script."""
    for path, what in ((args.node, "node (Debian's: apt-get install nodejs)"),
                       (args.chromium, "Chromium (apt-get install chromium)")):
        if not (Path(path).is_file() and os.access(path, os.X_OK)):
            raise BenchError(f"S12: {path} not found: {what}")
    if not (Path(args.web) / "node_modules" / "playwright-core").is_dir():
        raise BenchError(f"S12: {args.web}/node_modules has no playwright-core: run `npm ci` in "
                         f"{args.web}, or name a console dir that has it with --web")


def run(args):
    """Runs the script (progress on stderr as it comes); its result."""
    proc = servers.spawn(argv(args), stdout=subprocess.PIPE)
    try:
        out, _ = proc.communicate()
    except BaseException:
        # Interrupted: the script stops its server and browser on SIGTERM; bench/run kills
        # whatever group is left.
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        raise
    text = out.decode(errors="replace")
    script = SCRIPT.relative_to(servers.REPO)
    if proc.returncode < 0:
        raise BenchError(f"S12: {script} was killed by signal {-proc.returncode}")
    if proc.returncode != 0:
        raise BenchError(f"S12: {script} exited with {proc.returncode} (its reason is above)")
    return parse_result(text)


# ---- the section (console_test.py) -------------------------------------------------------------

def ms(x):
    return "—" if x is None else f"{x:.1f} ms"


def kb(n):
    """Bytes as KB (1 000 bytes), the unit of BENCHMARKS.md's 200 KB."""
    return "—" if n is None else f"{n / 1000:.1f} KB"


def goals(result):
    """[(measure, median, p95, min–max, median − the floor's, goal, met)]: each console page's
    cold load, median ≤ the target; the JS and CSS a first load fetches, gzipped, ≤ the target.
    Warm loads and the floor have no goal."""
    t = result["targets"]
    pages = result["pages"]
    out = []
    for name in [p for p in PAGES if p in pages]:
        page = pages[name]
        for load in ("cold", "warm"):
            s = page[load]
            who = {"models": "models (signed in)",
                   "floor": "floor (a static page, no console)"}.get(name, name)
            label = f"{who}, {load}: navigation start → {page['moment']}"
            if load == "warm":
                label += " (second load, same context)"
            floor = pages.get("floor", {}).get(load)
            over = ("—" if name == "floor" or not floor
                    else f"{s['median'] - floor['median']:+.1f} ms")
            if load == "cold" and name in CONSOLE_PAGES:
                goal, ok = f"≤ {t['interactive_ms']:g} ms (median)", s["median"] <= t["interactive_ms"]
            else:
                goal, ok = "—", None
            out.append((label, ms(s["median"]), ms(s["p95"]),
                        f"{s['min']:.1f}–{s['max']:.1f} ms", over, goal, ok))
    js = result["shipped"]["js_css"]
    out.append((f"JS + CSS a first load fetches (sign-in and models: {js['count']} files), "
                f"gzip -{result['gzip_level']}", kb(js["gzip"]), "", "", "",
                f"≤ {kb(t['js_css_gzip_bytes'])}", js["gzip"] <= t["js_css_gzip_bytes"]))
    return out


def files_table(result):
    """One row per file: what the first loads fetched, then what else web/dist has; totals."""
    level = result["gzip_level"]
    shipped, dist = result["shipped"], result["dist"]
    rows, seen = [], set()
    for f in shipped["files"]:
        if f["type"] == "html":
            continue  # index.html under each page's URL: one row below
        seen.add(f["path"])
        rows.append([f"`{f['path']}`", f["type"], f"{f['raw']:,}".replace(",", " "),
                     f"{f['gzip']:,}".replace(",", " "), ", ".join(f["pages"])])
    html = shipped["index_html"]
    if html:
        pages = [f["path"] for f in shipped["files"] if f["type"] == "html"]
        rows.append(["index.html", "html", f"{html['raw']:,}".replace(",", " "),
                     f"{html['gzip']:,}".replace(",", " "),
                     "every page (as " + ", ".join(f"`{p}`" for p in pages) + ")"])
        seen.add("/index.html")
    for f in dist["files"] or []:
        if f["path"] not in seen:
            rows.append([f"`{f['path']}`", f["type"], f"{f['raw']:,}".replace(",", " "),
                         f"{f['gzip']:,}".replace(",", " "), "not fetched (web/dist only)"])
    js = shipped["js_css"]
    rows.append(["**JS + CSS a first load fetches** (the target's figure)", "",
                 f"{js['raw']:,}".replace(",", " "), f"**{js['gzip']:,}**".replace(",", " "),
                 f"{kb(js['gzip'])} of ≤ {kb(result['targets']['js_css_gzip_bytes'])}"])
    if dist["files"]:
        d = dist["total"]
        rows.append([f"web/dist, all {d['count']} files", "", f"{d['raw']:,}".replace(",", " "),
                     f"{d['gzip']:,}".replace(",", " "),
                     kb(d["gzip"]) + ("" if dist["matches_served"] else
                                      " (**not** the dist this binary embeds)")])
    return (f"What the console ships (bytes; gzip = zlib level {level}, as `gzip -{level}`):",
            ["file", "type", "raw bytes", f"gzip -{level} bytes", "fetched by the first load of"],
            rows)


def phases_table(result):
    """Medians of each phase of a load, ms from the navigation's start, per page and cache."""
    names = result.get("phase_names", {})
    cols = [(p, load) for p in PAGES if p in result["pages"] for load in ("cold", "warm")]
    rows = []
    for ph in PHASES:
        values = [result["pages"][p][load]["phases"].get(ph) for p, load in cols]
        if all(v is None for v in values):
            continue
        rows.append([names.get(ph, ph)] + [ms(v) for v in values])
    return ("Where the time goes: medians over the runs, ms since the navigation started "
            "(resource timing's responseEnd, the navigation's DOMContentLoaded end, paint timing, "
            "and the page's own marks):",
            ["phase"] + [f"{p} {load}" for p, load in cols], rows)


def section(result, args=None):
    checked = goals(result)
    rows = [[*row[:-1], yes_no(row[-1])] for row in checked]
    met = [row[-1] for row in checked if row[-1] is not None]
    pages = result["pages"]
    per_run = "; ".join(
        f"{p} {' / '.join(f'{x:.0f}' for x in pages[p]['cold']['runs'])}"
        for p in PAGES if p in pages)
    cached = ", ".join(f"{p} {pages[p]['warm'].get('assets_from_cache', '?')} of "
                       f"{pages[p]['warm']['n']}" for p in CONSOLE_PAGES)
    probes = max((pages[p][load].get("probes_max") or 0) for p in ("sign-in", "floor")
                 if p in pages for load in ("cold", "warm"))
    dist = result["dist"]
    encodings = sorted({f.get("encoding") or "none" for f in result["shipped"]["files"]})
    wire = ("The server sends them uncompressed (no `Content-Encoding`), so a first load moves "
            "the raw bytes." if encodings == ["none"] else
            f"Content-Encoding as served: {', '.join(encodings)}.")
    notes = [
        f"Chromium {result['chromium']} headless (Debian's, `--no-sandbox`), driven by "
        f"playwright-core from bench/console/s12.mjs under Debian's node; viewport "
        f"{result['viewport']['width']}×{result['viewport']['height']}; `{_server_argv(result)}` "
        f"with `VIGIL_ADMIN_PASSWORD` and `VIGIL_LOG__LEVEL=warn` (no other `VIGIL_*`), the "
        f"console embedded in the binary"
        + (f" ({b['path']}, modified {b['mtime']})" if (b := result.get("binary")) else "")
        + "; browser, server and node share the machine's cores.",
        f"Each of {result['runs']} runs (after {result['warmup']} warm-up pass not counted): per "
        f"page a fresh browser context (its own empty HTTP cache: cold), one load, then a second "
        f"load of the same URL in the same context (warm: the `immutable` hashed assets come from "
        f"the cache; index.html, `no-cache`, is fetched again). The order of the pages rotates "
        f"run by run. Times are the page's own `performance.now()` (zero = the navigation's "
        f"start) when the moment is reached; p95 by nearest rank; the goal is read on the "
        f"median of the cold loads of each console page.",
        "**sign-in** (a visitor's first page): `GET /sign-in` until the sign-in form is usable: "
        "the email input is in the document, enabled and laid out, and an input event on it "
        "reaches the page's state — the probe sets the input's value, dispatches `input` (as "
        "typing does), then empties the value without an event; only the component's handler "
        "setting its state and Preact re-rendering the controlled input from that state writes "
        "the text back, and the moment is when it reads back (retried 10 ms later if not yet; "
        f"here at most {probes} probe{'s' if probes != 1 else ''} per load). "
        "**models** (a signed-in user's first page; the session cookie from one `POST "
        "/api/v1/auth/login` put into the context first): `GET /models` until the models table "
        "has its first row (`blank`, the built-in model). **floor**, the peer: a static page "
        "from a node:http server of the script on loopback with the same email input and the "
        "same probe, its handler a few lines of inline script (no framework, nothing else to "
        "fetch): what any first interactive page costs in this browser on this machine, measured "
        "in the same run; \"median − floor's\" is the console's own share. The in-page watch is "
        "an init script (a MutationObserver on the document), outside the console's CSP.",
        f"Sizes: the bodies of every response of the warm-up's two cold console loads that are "
        f"the document, a script or a style sheet, each gzipped with zlib at level "
        f"{result['gzip_level']}; **the goal is read on the JS + CSS total** (index.html is "
        f"counted apart, and is the same bytes under every page URL). {wire} web/dist: every "
        f"file in {dist['dir']}"
        + (", the dist this binary embeds (its index.html is the one served)."
           if dist.get("matches_served") else
           " — **not** the dist this binary embeds (its index.html differs from the one served)."
           if dist.get("files") else " — not found (the console is not built there)."),
        f"Cold loads, ms per run: {per_run}. Warm loads whose JS and CSS came from the cache "
        f"(transferSize 0): {cached}.",
    ]
    return Section("S12 · the console in Chromium: first load to interactive, JS shipped", notes,
                   ["measure", "median", "p95", "min–max", "median − floor's", "goal", "met"],
                   rows, met,
                   tables=[files_table(result), phases_table(result)])


def _server_argv(result):
    """The server's command line without the temp paths and port of this run."""
    words = result["server"].split()
    out = ["vigil"]
    for w, prev in zip(words[1:], words):
        if prev == "--data-dir":
            w = "<temp dir>"
        elif w.startswith("server.port="):
            w = "server.port=<free port>"
        out.append(w)
    return " ".join(out)


def s12(args):
    """The console in Chromium: first load to interactive, JS and CSS shipped."""
    require(args)
    result = run(args)
    return section(result, args)
