"""Unit tests for the wrk report parser: /usr/bin/python3 -m unittest discover -s bench/lib -p '*_test.py'"""
import unittest

import report
import wrk

SAMPLE = """\
Running 10s test @ http://127.0.0.1:8080/healthz
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   598.99us  423.93us   4.16ms   74.07%
    Req/Sec    27.15k     6.55k   37.31k    54.76%
  Latency Distribution
     50%  628.00us
     75%  801.00us
     90%    1.08ms
     99%    1.90s
  113361 requests in 2.10s, 18.27MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:  53943.39
Transfer/sec:      8.69MB
"""


class ParseTest(unittest.TestCase):
    def test_sample(self):
        r = wrk.parse(SAMPLE)
        self.assertAlmostEqual(r.requests_per_s, 53943.39)
        self.assertAlmostEqual(r.p50_ms, 0.628)
        self.assertAlmostEqual(r.p99_ms, 1900.0)
        self.assertEqual(r.requests, 113361)
        self.assertEqual(r.non_2xx, 7)
        self.assertEqual(r.socket_errors, 5)

    def test_clean_run_has_no_error_lines(self):
        clean = "\n".join(l for l in SAMPLE.splitlines() if "errors" not in l and "Non-2xx" not in l)
        r = wrk.parse(clean)
        self.assertEqual((r.non_2xx, r.socket_errors), (0, 0))

    def test_units(self):
        self.assertAlmostEqual(wrk.to_ms("12.5us"), 0.0125)
        self.assertAlmostEqual(wrk.to_ms("3.00ms"), 3.0)
        self.assertAlmostEqual(wrk.to_ms("1.50m"), 90_000.0)
        with self.assertRaises(ValueError):
            wrk.to_ms("3 ms")

    def test_garbage_raises(self):
        with self.assertRaises(ValueError):
            wrk.parse("unable to connect to 127.0.0.1:1 Connection refused")


class ReportTest(unittest.TestCase):
    def test_table(self):
        text = report.table(["a", "b"], [[1, "x"], ["long", 2.5]])
        self.assertEqual(text.splitlines()[1], "|---|---|")
        self.assertIn("| long | 2.5 |", text)


if __name__ == "__main__":
    unittest.main()
