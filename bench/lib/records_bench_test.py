"""S10's options and helpers, without a server (python3 -m unittest, from bench/lib)."""
import hashlib
import os
import tempfile
import unittest
from pathlib import Path

import main
import records_bench
import scenarios


class S10Test(unittest.TestCase):
    def test_default_with_its_options(self):
        args = main.parse_args([])
        self.assertIn("S10", args.scenarios)
        self.assertEqual((args.s10_runs, args.s10_files), (10, 60))
        args = main.parse_args(["--scenarios", "s10", "--s10-runs", "3", "--s10-files", "7"])
        self.assertEqual((args.scenarios, args.s10_runs, args.s10_files), (["S10"], 3, 7))
        self.assertIn("S10", scenarios.NEEDS_VIGIL)

    def test_each_drop_is_a_distinct_file_holding_the_record(self):
        record = records_bench.RECORD.read_bytes()
        with tempfile.TemporaryDirectory() as d:
            a, b = Path(d) / "a.h5", Path(d) / "b.h5"
            records_bench._distinct(a)
            records_bench._distinct(b)
            self.assertTrue(a.read_bytes().startswith(record))
            self.assertEqual(a.stat().st_size, len(record) + 16)
            self.assertNotEqual(hashlib.sha256(a.read_bytes()).digest(),
                                hashlib.sha256(b.read_bytes()).digest())

    def test_cpu_seconds_of_a_process_grow_with_work(self):
        before = records_bench._cpu_s(os.getpid())
        x = 0
        for i in range(2_000_000):
            x += i * i
        self.assertGreater(records_bench._cpu_s(os.getpid()), before)


if __name__ == "__main__":
    unittest.main()
