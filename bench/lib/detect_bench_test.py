"""S5, S6 and NAB: their options and the pieces that need no binary (python3 -m unittest, from
bench/lib)."""
import io
import os
import tempfile
import unittest
from contextlib import redirect_stderr
from pathlib import Path

import detect_bench
import main
import scenarios
from servers import BenchError


class DetectOptionsTest(unittest.TestCase):
    def test_named_not_default(self):
        defaults = main.parse_args([])
        for s in ("S5", "S6", "NAB"):
            self.assertNotIn(s, defaults.scenarios)
        self.assertIsNone(defaults.stumpy)
        self.assertEqual((defaults.s5_runs, defaults.s6_rounds, defaults.s6_threads), (3, 5, 2))
        args = main.parse_args(["--scenarios", "s5,s6", "--stumpy", "/work/peers/stumpy",
                                "--s5-runs", "1", "--s6-rounds", "2", "--s6-threads", "1"])
        self.assertEqual(args.scenarios, ["S5", "S6"])
        self.assertEqual(args.stumpy, Path("/work/peers/stumpy"))
        self.assertEqual((args.s5_runs, args.s6_rounds, args.s6_threads), (1, 2, 1))
        self.assertEqual(scenarios.DETECT_SCENARIOS, {"S5", "S6"})
        self.assertFalse(scenarios.needs_vigil("S5", None))
        self.assertTrue(scenarios.needs_vigil("NAB", None))

    def test_paths_are_made_absolute(self):
        args = main.parse_args(["--scenarios", "NAB", "--nab-data", "rel/nab",
                                "--detect-bench", "x/bench", "--stumpy", "st"])
        for p in (args.nab_data, args.detect_bench, args.stumpy):
            self.assertTrue(p.is_absolute())

    def test_bad_values(self):
        for argv in (["--s5-runs", "0"], ["--s6-rounds", "0"], ["--s6-threads", "0"],
                     ["--scenarios", "NAB"]):  # NAB without --nab-data
            with self.assertRaises(SystemExit), redirect_stderr(io.StringIO()):
                main.parse_args(argv)

    def test_stumpy_missing_says_why(self):
        args = main.parse_args(["--scenarios", "S5"])
        self.assertIn("no --stumpy", detect_bench.stumpy_missing(args))
        with tempfile.TemporaryDirectory() as d:
            args = main.parse_args(["--scenarios", "S5", "--stumpy", d])
            self.assertIn("stumpy/__init__.py", detect_bench.stumpy_missing(args))
            os.makedirs(os.path.join(d, "stumpy"))
            Path(d, "stumpy", "__init__.py").write_text("")
            self.assertIsNone(detect_bench.stumpy_missing(args))

    def test_detect_bench_beside_vigil_or_named(self):
        with tempfile.TemporaryDirectory() as d:
            args = main.parse_args(["--scenarios", "S6", "--vigil", f"{d}/vigil"])
            with self.assertRaises(BenchError):
                detect_bench.detect_bench_binary(args)
            b = Path(d, "bench", "detect", "vigil_detect_bench")
            b.parent.mkdir(parents=True)
            b.write_text("#!/bin/sh\n")
            b.chmod(0o755)
            self.assertEqual(detect_bench.detect_bench_binary(args), b)

    def test_nab_layouts(self):
        with tempfile.TemporaryDirectory() as d:
            root = Path(d)
            with self.assertRaises(BenchError):
                detect_bench.nab_paths(root)
            (root / "data").mkdir()
            (root / "labels").mkdir()
            (root / "labels" / "combined_windows.json").write_text("{}")
            (root / "config").mkdir()
            (root / "config" / "profiles.json").write_text("{}")  # a NAB checkout
            self.assertEqual(detect_bench.nab_paths(root)[2], root / "config" / "profiles.json")
            (root / "profiles.json").write_text("{}")  # the shared copy
            self.assertEqual(detect_bench.nab_paths(root)[2], root / "profiles.json")

    def test_last_json_line(self):
        self.assertEqual(detect_bench.last_json('x\n{"a": 1}\n{"b": 2}\n', "t"), {"b": 2})
        with self.assertRaises(BenchError):
            detect_bench.last_json("no json\n", "t")


if __name__ == "__main__":
    unittest.main()
