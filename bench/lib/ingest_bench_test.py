"""S4's options and the size reading, without a server (python3 -m unittest, from bench/lib)."""
import io
import sqlite3
import tempfile
import unittest
from contextlib import redirect_stderr
from pathlib import Path

import ingest_bench
import main
import scenarios


class S4Test(unittest.TestCase):
    def test_named_not_default(self):
        self.assertNotIn("S4", main.parse_args([]).scenarios)
        args = main.parse_args(["--scenarios", "s4", "--s4-points", "500", "--s4-sensors", "2"])
        self.assertEqual(args.scenarios, ["S4"])
        self.assertEqual((args.s4_points, args.s4_sensors, args.s4_concurrency), (500, 2, 8))
        self.assertIn("S4", scenarios.FLEET_SCENARIOS)
        self.assertTrue(scenarios.needs_vigil("S4", None))

    def test_bad_values(self):
        for argv in (["--s4-points", "0"], ["--s4-points", "100001"], ["--s4-sensors", "0"],
                     ["--s4-concurrency", "0"]):
            with self.assertRaises(SystemExit), redirect_stderr(io.StringIO()):
                main.parse_args(argv)

    def test_stored_bytes_reads_the_chunks(self):
        with tempfile.TemporaryDirectory() as d:
            db = Path(d) / "vigil.db"
            with sqlite3.connect(db) as c:
                c.execute("CREATE TABLE series_chunks (points INTEGER, data BLOB)")
                c.execute("INSERT INTO series_chunks VALUES (100, ?), (50, ?)",
                          (b"x" * 120, b"y" * 30))
            points, data, file_bytes = ingest_bench.stored_bytes(db)
            self.assertEqual((points, data), (150, 150))
            self.assertEqual(file_bytes, db.stat().st_size)


if __name__ == "__main__":
    unittest.main()
