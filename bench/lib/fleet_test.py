"""Unit tests for S7/S8's harness logic (fleet.py): /proc parsing, how many sessions fit, the
rollout body, the goals, the load client's JSON lines, and the options:
/usr/bin/python3 -m unittest discover -s bench/lib -p '*_test.py'"""
import argparse
import os
import sys
import tempfile
import unittest
from pathlib import Path

import fleet
import main
import scenarios
from servers import BenchError

STATUS = """Name:\tvigil
Umask:\t0022
State:\tS (sleeping)
VmPeak:\t  812344 kB
VmHWM:\t  203380 kB
VmRSS:\t  202516 kB
Threads:\t9
"""
# A thread name with a space and parentheses: fields are counted after the last ')'.
STAT = ("4242 (vigil (io) 1) S 1 4242 4242 0 -1 4194560 100 0 0 0 "
        "1234 567 0 0 20 0 9 0 100 1000 50 18446744073709551615")


class ProcTest(unittest.TestCase):
    def test_status_fields(self):
        self.assertEqual(fleet.proc_status_kib(STATUS, "VmRSS"), 202516)
        self.assertEqual(fleet.proc_status_kib(STATUS, "VmHWM"), 203380)
        self.assertIsNone(fleet.proc_status_kib(STATUS, "VmSwap"))
        self.assertIsNone(fleet.proc_status_kib("VmRSS:\n", "VmRSS"))

    def test_cpu_seconds_after_the_name(self):
        self.assertAlmostEqual(fleet.proc_cpu_seconds(STAT, 100), 12.34 + 5.67)
        self.assertEqual(fleet.thread_name(STAT), "vigil (io) 1")

    def test_this_process(self):
        text = Path("/proc/self/stat").read_text()
        self.assertGreaterEqual(fleet.proc_cpu_seconds(text, 100), 0.0)
        threads = fleet.thread_cpu("self")
        self.assertTrue(threads)
        self.assertTrue(all(v >= 0 for v in threads.values()))

    def test_cpu_delta(self):
        before = {"vigil-io-0": 1.0, "vigil-fleet": 2.0, "vigil": 0.5}
        after = {"vigil-io-0": 1.5, "vigil-fleet": 4.0, "vigil": 0.505, "vigil-new": 0.3}
        self.assertEqual(list(fleet.cpu_delta(before, after)),
                         ["vigil-fleet", "vigil-io-0", "vigil-new"])  # largest first, tiny gone
        self.assertEqual(fleet.describe_cpu({"a": 1.0, "b": 0.25}), "a 1.00 s, b 0.25 s")
        self.assertEqual(fleet.describe_cpu({}), "none")


class PlanTest(unittest.TestCase):
    def test_room_for_all(self):
        self.assertEqual(fleet.feasible_sessions(10_000, 100_000, 1_000_000), (10_000, None))
        self.assertEqual(fleet.feasible_sessions(10_000, None, None), (10_000, None))

    def test_the_server_descriptor_limit(self):
        n, why = fleet.feasible_sessions(100_000, 19_915, 20_000)
        self.assertEqual(n, 19_915 - fleet.FD_RESERVE)
        self.assertIn("19915 connections", why)

    def test_the_client_descriptor_limit(self):
        n, why = fleet.feasible_sessions(100_000, 99_936, 4_096)
        self.assertEqual(n, 4_096 - fleet.FD_RESERVE)
        self.assertIn("load client", why)

    def test_never_negative(self):
        self.assertEqual(fleet.feasible_sessions(10, 20, None)[0], 0)

    def test_rollout_body(self):
        body = fleet.rollout_body("s8", "m", 3, 10_000)
        self.assertEqual(body["select"], {"labels": {"bench": "s8"}})
        self.assertEqual(body["target"], {"model": "m", "version": 3})
        self.assertEqual(body["action"], "update")
        # Everyone at once: no canary wave, one batch as large as the fleet, no rate limit.
        self.assertEqual((body["canary_percent"], body["batch_size"], body["rate_per_minute"]),
                         (0, 10_000, 0))
        self.assertEqual(body["confirm_s"], 0)
        self.assertLess(body["confirm_s"], body["device_timeout_s"])
        self.assertEqual(fleet.rollout_body("x", "m", 1, 0)["batch_size"], 1)


class GoalTest(unittest.TestCase):
    def test_num(self):
        self.assertEqual(fleet.num(100000), "100 000")
        self.assertEqual(fleet.num(19851.0), "19 851")
        self.assertEqual(fleet.num(7), "7")

    def test_kib_per_session(self):
        self.assertAlmostEqual(fleet.kib_per_session(28_800, 202_516, 19_851), 8.7510, places=3)
        self.assertIsNone(fleet.kib_per_session(28_800, 202_516, 0))
        self.assertIsNone(fleet.kib_per_session(None, 202_516, 10))

    def test_s7_goals(self):
        goals = fleet.s7_goals(100_000, 8.5, 12.0, 0)
        self.assertEqual([g[3] for g in goals], [True, True, True])
        self.assertEqual(goals[0][1], "100 000")
        goals = fleet.s7_goals(19_851, 10.5, 60.0, 0)
        self.assertEqual([g[3] for g in goals], [False, False, False])
        # A lost pong misses the latency goal whatever the p99; no figures miss too.
        self.assertFalse(fleet.s7_goals(100_000, 8.0, 1.0, 1)[2][3])
        self.assertEqual([g[3] for g in fleet.s7_goals(0, None, None, 0)], [False, False, False])

    def test_s8_goal(self):
        self.assertTrue(fleet.s8_goal(1.9, 10_000, True)[1])
        self.assertFalse(fleet.s8_goal(2.1, 10_000, True)[1])
        self.assertFalse(fleet.s8_goal(1.0, 10_000, False)[1])
        self.assertFalse(fleet.s8_goal(None, 10_000, True)[1])
        self.assertFalse(fleet.s8_goal(1.0, 0, True)[1])

    def test_completed_at(self):
        rollout = {"history": [{"at": "2026-12-06T03:04:18.000Z", "to": "running"},
                               {"at": "2026-12-06T03:04:18.630Z", "to": "completed"}]}
        self.assertAlmostEqual(fleet.completed_at(rollout) - fleet.parse_time(
            "2026-12-06T03:04:18.000Z"), 0.63, places=6)
        self.assertAlmostEqual(fleet.parse_time("1970-01-01T00:00:01.500Z"), 1.5)
        self.assertIsNone(fleet.completed_at({"history": [{"at": "x", "to": "halted"}]}))
        self.assertIsNone(fleet.completed_at({}))

    def test_describe_errors(self):
        self.assertEqual(fleet.describe_errors({"held": 5, "refused": {}}), "none")
        text = fleet.describe_errors({"connect_errors": 2, "refused": {"503": 7},
                                      "first_close": "too slow"})
        self.assertEqual(text, "2 TCP connects failed; 7 upgrades answered 503; "
                               "first close: 'too slow'")


class LoadClientTest(unittest.TestCase):
    """LoadClient on stand-in processes; their logs and pgids go to a temp BENCH_WORKDIR."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.saved = os.environ.get("BENCH_WORKDIR")
        os.environ["BENCH_WORKDIR"] = self.dir.name

    def tearDown(self):
        if self.saved is None:
            os.environ.pop("BENCH_WORKDIR", None)
        else:
            os.environ["BENCH_WORKDIR"] = self.saved
        self.dir.cleanup()

    def client(self, script):
        return fleet.LoadClient([sys.executable, "-c", script], "fake-client")

    def test_events_in_order_skipping_others(self):
        c = self.client("import sys\n"
                        "print('progress, not JSON')\n"
                        "print('{\"event\":\"held\",\"held\":3}')\n"
                        "print('{\"event\":\"other\"}')\n"
                        "sys.stdout.flush()\n"
                        "sys.stdin.readline()\n"
                        "print('{\"event\":\"result\",\"p99_ms\":1.5}')\n")
        try:
            self.assertEqual(c.event("held", 10)["held"], 3)
            c.send("measure")
            self.assertEqual(c.event("result", 10)["p99_ms"], 1.5)
        finally:
            c.finish()
        self.assertEqual(c.proc.returncode, 0)

    def test_exit_before_the_event(self):
        c = self.client("import sys; sys.stderr.write('no tokens\\n'); sys.exit(2)")
        try:
            with self.assertRaisesRegex(BenchError, "(?s)exited.*no tokens"):
                c.event("held", 10)
        finally:
            c.finish()

    def test_timeout(self):
        c = self.client("import time; time.sleep(30)")
        try:
            with self.assertRaisesRegex(BenchError, "no 'ready' after"):
                c.event("ready", 0.3)
        finally:
            c.finish(timeout=0.1)


class OptionsTest(unittest.TestCase):
    def test_not_in_the_default_list(self):
        args = main.parse_args([])
        self.assertEqual(args.scenarios, ["S1", "S2", "S3", "S10", "S11"])
        self.assertEqual((args.s7_sessions, args.s8_agents), (100_000, 10_000))

    def test_named(self):
        args = main.parse_args(["--scenarios", "s7,S8", "--s7-sessions", "2000",
                                "--s8-agents", "500", "--s8-runs", "2"])
        self.assertEqual(args.scenarios, ["S7", "S8"])
        self.assertTrue(all(scenarios.needs_vigil(s, None) for s in args.scenarios))
        self.assertEqual((args.s7_sessions, args.s8_agents, args.s8_runs), (2000, 500, 2))
        for s in args.scenarios:
            self.assertIn(s, scenarios.SCENARIOS)
            self.assertIn(s, scenarios.FLEET_SCENARIOS)

    def test_bad_values(self):
        for argv in (["--s7-sessions", "0"], ["--s8-runs", "0"], ["--s7-measure", "0"]):
            with self.assertRaises(SystemExit):
                main.parse_args(argv)

    def test_load_client_path(self):
        with tempfile.TemporaryDirectory() as d:
            vigil = Path(d) / "vigil"
            args = argparse.Namespace(fleet_load=None, vigil=vigil)
            with self.assertRaisesRegex(BenchError, "vigil_fleet_load not found"):
                fleet.fleet_load_binary(args)
            exe = Path(d) / "bench" / "fleet_load" / "vigil_fleet_load"
            exe.parent.mkdir(parents=True)
            exe.write_text("#!/bin/sh\n")
            exe.chmod(0o755)
            self.assertEqual(fleet.fleet_load_binary(args), exe)
            args.fleet_load = Path(d) / "elsewhere"
            with self.assertRaises(BenchError):
                fleet.fleet_load_binary(args)


if __name__ == "__main__":
    unittest.main()


class StepsTest(unittest.TestCase):
    def test_describes_the_steps_of_a_run(self):
        self.assertEqual(fleet.describe_steps((80.0, 1.6)), "80 steps, 1.60 s (20.0 ms each)")
        self.assertEqual(fleet.describe_steps(None), "—")
        self.assertEqual(fleet.describe_steps((0.0, 0.0)), "—")
        self.assertEqual(fleet._delta((10.0, 1.0), (90.0, 2.5)), (80.0, 1.5))
        self.assertIsNone(fleet._delta(None, (1.0, 1.0)))
