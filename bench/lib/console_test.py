"""Unit tests for S12's harness side (console.py): the script's result line, the goals, the
tables, and the options: /usr/bin/python3 -m unittest discover -s bench/lib -p '*_test.py'"""
import argparse
import copy
import json
import tempfile
import unittest
from pathlib import Path

import console
import main
import scenarios
from servers import BenchError


def _load(median, p95, runs, **extra):
    phases = {p: None for p in console.PHASES}
    phases.update(html=5.0, css=20.0, js=22.0, app=40.0, dcl=41.0, me_sent=41.5, me=45.0,
                  fcp=48.0, interactive=median)
    return {"median": median, "p95": p95, "min": min(runs), "max": max(runs), "n": len(runs),
            "runs": runs, "phases": phases, **extra}


# The shape of bench/console/s12.mjs's JSON line, trimmed to what console.py reads.
RESULT = {
    "scenario": "S12", "runs": 3, "warmup": 1, "chromium": "156.0.8078.114",
    "viewport": {"width": 1200, "height": 800},
    "server": "/x/build/release/vigil serve --host 127.0.0.1 --data-dir /tmp/vigil-s12-ab/data "
              "--set server.port=41234 --set log.file=",
    "gzip_level": 9, "targets": {"interactive_ms": 500, "js_css_gzip_bytes": 200000},
    "pages": {
        "sign-in": {"path": "/sign-in", "moment": "the sign-in form usable",
                    "cold": _load(60.0, 80.0, [55.0, 60.0, 80.0]),
                    "warm": _load(30.0, 35.0, [28.0, 30.0, 35.0], assets_from_cache=3)},
        "models": {"path": "/models", "moment": "the models table's first row shown",
                   "cold": _load(90.0, 120.0, [85.0, 90.0, 120.0]),
                   "warm": _load(50.0, 55.0, [45.0, 50.0, 55.0], assets_from_cache=3)},
        "floor": {"path": "/floor", "moment": "the form usable (the sign-in probe)", "floor": True,
                  "cold": _load(40.0, 45.0, [38.0, 40.0, 45.0], probes_max=1),
                  "warm": _load(20.0, 25.0, [19.0, 20.0, 25.0], probes_max=2)},
    },
    "shipped": {
        "files": [
            {"path": "/sign-in", "type": "html", "raw": 619, "gzip": 367, "pages": ["sign-in"]},
            {"path": "/assets/index-a.css", "type": "css", "raw": 4730, "gzip": 1669,
             "pages": ["sign-in", "models"]},
            {"path": "/assets/index-b.js", "type": "js", "raw": 44336, "gzip": 15726,
             "pages": ["sign-in", "models"]},
            {"path": "/models", "type": "html", "raw": 619, "gzip": 367, "pages": ["models"]},
        ],
        "js_css": {"raw": 49066, "gzip": 17395, "count": 2},
        "index_html": {"raw": 619, "gzip": 367, "same_on_every_page": True},
    },
    "dist": {
        "dir": "/x/web/dist",
        "files": [{"path": "/assets/index-b.js", "type": "js", "raw": 44336, "gzip": 15726},
                  {"path": "/assets/index-a.css", "type": "css", "raw": 4730, "gzip": 1669},
                  {"path": "/favicon.svg", "type": "other", "raw": 231, "gzip": 185},
                  {"path": "/index.html", "type": "html", "raw": 619, "gzip": 367}],
        "total": {"raw": 49916, "gzip": 17947, "count": 4},
        "js_css": {"raw": 49066, "gzip": 17395, "count": 2},
        "matches_served": True,
    },
    "phase_names": {"interactive": "the moment (interactive)"},
}


class ResultLineTest(unittest.TestCase):
    def test_the_last_s12_line(self):
        text = ("S12 · a table\n{not json\n" + json.dumps({"scenario": "S1"}) + "\n"
                + json.dumps(RESULT) + "\n")
        self.assertEqual(console.parse_result(text)["chromium"], "156.0.8078.114")

    def test_none(self):
        with self.assertRaisesRegex(BenchError, "no result line"):
            console.parse_result("a table only\n")


class GoalsTest(unittest.TestCase):
    def test_met(self):
        g = console.goals(RESULT)
        self.assertEqual([ok for *_, ok in g], [True, None, True, None, None, None, True])
        self.assertEqual(g[0][1:5], ("60.0 ms", "80.0 ms", "55.0–80.0 ms", "+20.0 ms"))
        self.assertEqual(g[3][4], "+30.0 ms")  # models warm − floor warm
        self.assertEqual(g[4][4], "—")  # the floor itself
        self.assertIn("17.4 KB", g[-1][1])
        self.assertEqual(g[-1][5], "≤ 200.0 KB")

    def test_without_a_floor(self):
        r = copy.deepcopy(RESULT)
        del r["pages"]["floor"]
        g = console.goals(r)
        self.assertEqual([row[4] for row in g[:4]], ["—"] * 4)
        self.assertEqual(console.section(r).met, [True, True, True])

    def test_missed_on_the_median(self):
        r = copy.deepcopy(RESULT)
        r["pages"]["models"]["cold"]["median"] = 500.1
        r["pages"]["sign-in"]["cold"]["p95"] = 900.0  # p95 is shown, not judged
        r["shipped"]["js_css"]["gzip"] = 200_001
        self.assertEqual([ok for *_, ok in console.goals(r)],
                         [True, None, False, None, None, None, False])
        r["pages"]["models"]["cold"]["median"] = 500.0
        r["shipped"]["js_css"]["gzip"] = 200_000
        self.assertEqual([ok for *_, ok in console.goals(r)],
                         [True, None, True, None, None, None, True])


class SectionTest(unittest.TestCase):
    def test_tables(self):
        s = console.section(RESULT)
        self.assertEqual(s.met, [True, True, True])
        text = s.markdown()
        self.assertEqual(text.count("\n|---|"), 3)  # goals, files, phases
        self.assertIn("| `/favicon.svg` | other | 231 | 185 | not fetched (web/dist only) |", text)
        self.assertIn("| index.html | html | 619 | 367 | every page (as `/sign-in`, `/models`) |",
                      text)
        self.assertIn("**17 395**", text)
        self.assertIn("| web/dist, all 4 files |  | 49 916 | 17 947 | 17.9 KB |", text)
        self.assertIn("| the moment (interactive) | 60.0 ms | 30.0 ms | 90.0 ms | 50.0 ms | 40.0 ms "
                      "| 20.0 ms |", text)
        self.assertNotIn("GET /api/v1/models answered", text)  # no values: no row
        self.assertIn("sign-in 55 / 60 / 80; models 85 / 90 / 120; floor 38 / 40 / 45", text)
        self.assertIn("at most 2 probes per load", text)
        self.assertIn("uncompressed (no `Content-Encoding`)", text)
        self.assertIn("the dist this binary embeds", text)

    def test_server_line_without_this_runs_paths(self):
        self.assertEqual(console._server_argv(RESULT),
                         "vigil serve --host 127.0.0.1 --data-dir <temp dir> "
                         "--set server.port=<free port> --set log.file=")

    def test_another_dist(self):
        r = copy.deepcopy(RESULT)
        r["dist"]["matches_served"] = False
        text = console.section(r).markdown()
        self.assertIn("**not** the dist this binary embeds", text)
        r["dist"] = {"dir": "/nowhere/dist", "files": None}
        text = console.section(r).markdown()
        self.assertIn("not found", text)
        self.assertNotIn("web/dist, all", text)


class OptionsTest(unittest.TestCase):
    def test_named(self):
        args = main.parse_args(["--scenarios", "s12", "--s12-runs", "5", "--web", "/x/web"])
        self.assertEqual(args.scenarios, ["S12"])
        self.assertTrue(scenarios.needs_vigil("S12", None))
        self.assertIn("S12", scenarios.SCENARIOS)
        self.assertEqual((args.s12_runs, args.web), (5, Path("/x/web")))
        argv = console.argv(args)
        self.assertEqual(argv[:2], [str(console.DEFAULT_NODE), str(console.SCRIPT)])
        self.assertEqual(argv[argv.index("--runs") + 1], "5")
        self.assertEqual(argv[argv.index("--web") + 1], "/x/web")

    def test_not_in_the_default_list(self):
        self.assertNotIn("S12", main.parse_args([]).scenarios)

    def test_bad_runs(self):
        with self.assertRaises(SystemExit):
            main.parse_args(["--scenarios", "S12", "--s12-runs", "0"])

    def test_requires_node_chromium_and_playwright(self):
        with tempfile.TemporaryDirectory() as d:
            args = argparse.Namespace(node=Path(d) / "node", chromium=console.DEFAULT_CHROMIUM,
                                      web=Path(d))
            with self.assertRaisesRegex(BenchError, "node"):
                console.require(args)
            args.node = Path("/bin/sh")
            args.chromium = Path(d) / "chromium"
            with self.assertRaisesRegex(BenchError, "Chromium"):
                console.require(args)
            args.chromium = Path("/bin/sh")
            with self.assertRaisesRegex(BenchError, "playwright-core"):
                console.require(args)
            (Path(d) / "node_modules" / "playwright-core").mkdir(parents=True)
            console.require(args)


if __name__ == "__main__":
    unittest.main()
