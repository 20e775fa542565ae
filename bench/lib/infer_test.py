"""Unit tests for S2/S3 (the KServe v2 body, wrk script, answer check, goals, batching metrics),
the targets each scenario takes from --targets, and the peers' model route:
/usr/bin/python3 -m unittest discover -s bench/lib -p '*_test.py'"""
import json
import math
import struct
import sys
import unittest

import infer
import main
import scenarios
import servers

sys.path.insert(0, str(servers.PEERS))
try:
    import peer_model  # noqa: E402  (bench/peers is not a package; needs numpy and xgboost)
except ImportError:  # python3-xgboost missing: scripts/install-deps --bench
    peer_model = None


def _f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def _expected():
    with open(servers.MODEL_EXPECTED) as f:
        return json.load(f)


class F32Test(unittest.TestCase):
    def test_shortest_round_trip(self):
        self.assertEqual(infer.f32(17.989999771118164), "17.99")
        self.assertEqual(infer.f32(1001.0), "1001")
        self.assertEqual(infer.f32(0.0), "0")
        self.assertEqual(infer.f32(-0.5), "-0.5")
        self.assertEqual(infer.f32(None), "null")

    def test_reads_back_as_the_same_float32(self):
        for row in _expected()["rows"]:
            for x in row:
                if x is not None:
                    text = infer.f32(x)
                    self.assertEqual(_f32(float(text)), _f32(x), text)
                    json.loads(text)  # a JSON number (e.g. 1e-05)

    def test_not_finite(self):
        for x in (math.inf, -math.inf, math.nan):
            with self.assertRaises(ValueError):
                infer.f32(x)


class BodyTest(unittest.TestCase):
    def test_cycle(self):
        rows, preds = infer.cycle([[1], [2], [3]], [0.1, 0.2, 0.3], 7)
        self.assertEqual(rows, [[1], [2], [3], [1], [2], [3], [1]])
        self.assertEqual(preds, [0.1, 0.2, 0.3, 0.1, 0.2, 0.3, 0.1])
        self.assertEqual(infer.cycle([[1], [2]], [0.1, 0.2], 1), ([[1]], [0.1]))
        with self.assertRaises(ValueError):
            infer.cycle([[1]], [], 1)

    def test_request_body(self):
        doc = json.loads(infer.request_body([[1.5, None], [0.25, 3.0]]))
        self.assertEqual(doc, {"inputs": [{"name": "x", "shape": [2, 2], "datatype": "FP32",
                                           "data": [1.5, None, 0.25, 3]}]})
        with self.assertRaises(ValueError):
            infer.request_body([[1.0], [1.0, 2.0]])

    def test_s3_body_from_the_real_rows(self):
        e = _expected()
        rows, _ = infer.cycle(e["rows"], e["predictions"], 256)
        doc = json.loads(infer.request_body(rows))
        tensor = doc["inputs"][0]
        self.assertEqual(tensor["shape"], [256, 30])
        self.assertEqual(len(tensor["data"]), 256 * 30)
        self.assertEqual(sum(x is None for x in tensor["data"]), 4 * 2)  # 2 nulls in 64 rows
        self.assertEqual(tensor["data"][64 * 30:65 * 30], tensor["data"][:30])

    def test_wrk_script_long_bracket(self):
        script = infer.wrk_script('{"a":[1]}')
        self.assertIn('wrk.method = "POST"', script)
        self.assertIn('wrk.headers["Content-Type"] = "application/json"', script)
        self.assertIn('wrk.body = [[{"a":[1]}]]\n', script)
        # A "]]" or "]=]" inside would close the string early: the level goes past them.
        self.assertIn('wrk.body = [=[{"a":[[1]]}]=]\n', infer.wrk_script('{"a":[[1]]}'))
        self.assertIn('wrk.body = [==[{"a":[[1]],"b":"]=]"}]==]\n',
                      infer.wrk_script('{"a":[[1]],"b":"]=]"}'))
        # So would a "]" at the end followed by the closing "]]".
        self.assertIn("wrk.body = [=[[1]]=]\n", infer.wrk_script("[1]"))
        with self.assertRaises(ValueError):
            infer.wrk_script('{\n"a":1}')


class CheckTest(unittest.TestCase):
    def answer(self, data, shape=None, **over):
        doc = {"model_name": "breast_cancer", "model_version": "1", "id": "x",
               "outputs": [{"name": "predict", "datatype": "FP32",
                            "shape": shape if shape is not None else [len(data)], "data": data}]}
        doc.update(over)
        return json.dumps(doc).encode()

    def test_good(self):
        self.assertIsNone(infer.check_response(200, self.answer([0.5, 0.25]), [0.500004, 0.25]))

    def test_wrong(self):
        cases = [
            (500, b'{"status":500}', "answered 500"),
            (200, b"nope", "without JSON"),
            (200, self.answer([0.5], model_name="other"), "model_name"),
            (200, self.answer([0.5], outputs=[]), "predict"),
            (200, self.answer([0.5], shape=[1, 1]), "shape"),
            (200, self.answer([0.5, 0.5], shape=[1]), "shape"),
            (200, self.answer([0.50002]), "prediction 0"),
            (200, self.answer([None]), "prediction 0"),
            (200, self.answer([True]), "prediction 0"),
        ]
        for status, body, needle in cases:
            wrong = infer.check_response(status, body, [0.5])
            self.assertIsNotNone(wrong, body)
            self.assertIn(needle, wrong)

    def test_long_answer_is_cut(self):
        wrong = infer.check_response(503, b"x" * 2000, [0.5])
        self.assertLess(len(wrong), 600)


class GoalTest(unittest.TestCase):
    def test_s2(self):
        med = {"vigil": 40_000.0, "vigil-nobatch": 30_000.0, "flask": 3_000.0, "fastapi": 5_000.0}
        self.assertEqual(infer.goal(scenarios.S2, "vigil", med, 0),
                         ("≥ 30 000 rows/s, no errors", True))
        self.assertEqual(infer.goal(scenarios.S2, "vigil", med, 1)[1], False)
        self.assertEqual(infer.goal(scenarios.S2, "vigil", {"vigil": 29_999.0}, 0)[1], False)
        self.assertEqual(infer.goal(scenarios.S2, "vigil-nobatch", med, 0)[1], True)
        self.assertEqual(infer.goal(scenarios.S2, "vigil-nobatch", dict(med, vigil=30_000.0),
                                    0)[1], False)  # must beat, not tie
        self.assertEqual(infer.goal(scenarios.S2, "flask", med, 0),
                         ("Vigil ≥ 10× flask", True))
        self.assertEqual(infer.goal(scenarios.S2, "flask", dict(med, flask=4_001.0), 0)[1], False)
        self.assertEqual(infer.goal(scenarios.S2, "fastapi", med, 0), ("—", None))

    def test_s3_counts_rows(self):
        self.assertEqual(infer.goal(scenarios.S3, "vigil", {"vigil": 3_907.0}, 0),
                         ("≥ 1 000 000 rows/s, no errors", True))  # 3 907 × 256 = 1 000 192
        self.assertFalse(infer.goal(scenarios.S3, "vigil", {"vigil": 3_906.0}, 0)[1])
        self.assertEqual(infer.goal(scenarios.S3, "vigil-nobatch", {"vigil-nobatch": 1.0}, 0),
                         ("—", None))

    def test_peers_alone(self):
        self.assertEqual(infer.goal(scenarios.S2, "flask", {"flask": 1.0}, 0)[1], None)
        self.assertEqual(infer.goal(scenarios.S2, "vigil-nobatch", {"vigil-nobatch": 1.0}, 0)[1],
                         None)


class MetricsTest(unittest.TestCase):
    TEXT = """\
# HELP vigil_batch_rows_total Rows predicted in batches
# TYPE vigil_batch_rows_total counter
vigil_batch_rows_total{model="breast_cancer:1"} 120
vigil_batch_rows_total{model="blank:1"} 0
vigil_batch_rows_total_extra 999
vigil_batches_total{model="breast_cancer:1"} 40
vigil_batch_compute_seconds_sum{model="breast_cancer:1"} 0.002
vigil_batch_compute_seconds_count{model="breast_cancer:1"} 40
vigil_batch_queue_wait_seconds_bucket{model="breast_cancer:1",le="0.001"} 120
vigil_batch_queue_wait_seconds_sum{model="breast_cancer:1"} 0.03
vigil_batch_queue_wait_seconds_count{model="breast_cancer:1"} 120
"""

    def test_total(self):
        self.assertEqual(infer.metric_total(self.TEXT, "vigil_batch_rows_total"), 120.0)
        self.assertIsNone(infer.metric_total(self.TEXT, "vigil_nothing"))

    def test_stats(self):
        stats = infer.batch_stats(self.TEXT)
        self.assertEqual(stats["rows_per_call"], 3.0)
        self.assertAlmostEqual(stats["compute_us_per_call"], 50.0)
        self.assertAlmostEqual(stats["wait_us_per_request"], 250.0)
        self.assertEqual(infer.describe_batches("vigil", stats),
                         "vigil: 3.0 rows per model call, 50 µs compute per call, "
                         "250 µs queue wait per request")

    def test_no_calls(self):
        stats = infer.batch_stats("vigil_batch_rows_total 0\nvigil_batches_total 0")
        self.assertEqual(stats, {"rows_per_call": None, "compute_us_per_call": None,
                                 "wait_us_per_request": None})
        self.assertIsNone(infer.describe_batches("vigil", stats))
        self.assertIsNone(infer.describe_batches("vigil", {}))


class TargetsTest(unittest.TestCase):
    def test_each_scenario_takes_its_own(self):
        given = ["nginx", "vigil-nobatch", "vigil", "vigil-noaudit"]
        self.assertEqual(scenarios.scenario_targets("S1", given), ["nginx", "vigil", "vigil-noaudit"])
        self.assertEqual(scenarios.scenario_targets("S2", given), ["vigil-nobatch", "vigil"])
        self.assertIsNone(scenarios.scenario_targets("S3", None))

    def test_needs_vigil(self):
        self.assertTrue(scenarios.needs_vigil("S2", None))
        self.assertTrue(scenarios.needs_vigil("S11", ["flask"]))
        self.assertFalse(scenarios.needs_vigil("S2", ["flask", "fastapi"]))
        self.assertTrue(scenarios.needs_vigil("S3", ["vigil-nobatch"]))
        self.assertFalse(scenarios.needs_vigil("S1", ["nginx", "vigil-nobatch"]))

    def test_rotation(self):
        t = ["a", "b", "c"]
        self.assertEqual([scenarios.rotation(t, r) for r in range(4)],
                         [["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"], ["a", "b", "c"]])

    def test_parse_args(self):
        args = main.parse_args(["--scenarios", "s2,S3", "--targets", "vigil,vigil-nobatch"])
        self.assertEqual(args.scenarios, ["S2", "S3"])
        self.assertEqual(args.targets, ["vigil", "vigil-nobatch"])
        self.assertEqual(main.parse_args([]).scenarios, ["S1", "S2", "S3", "S10", "S11"])
        with open("/dev/null", "w") as devnull:
            stderr, sys.stderr = sys.stderr, devnull
            try:
                for argv in (["--targets", "nope"],
                             ["--scenarios", "S2", "--targets", "nginx"],
                             ["--scenarios", "S1", "--targets", "vigil-nobatch"]):
                    with self.assertRaises(SystemExit, msg=argv):
                        main.parse_args(argv)
            finally:
                sys.stderr = stderr


@unittest.skipIf(peer_model is None, "python3-xgboost not installed")
class PeerModelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.booster = peer_model.load(str(servers.MODEL_FILE))
        cls.expected = _expected()

    def test_predicts_like_the_xgboost_package(self):
        rows, preds = infer.cycle(self.expected["rows"], self.expected["predictions"], 256)
        body = json.loads(infer.request_body(rows))
        body["id"] = "r1"
        answer = peer_model.infer(body, self.booster)
        self.assertEqual(answer["id"], "r1")
        self.assertIsNone(infer.check_response(200, json.dumps(answer), preds))

    def test_nested_data_and_a_generated_id(self):
        row = self.expected["rows"][0]
        answer = peer_model.infer({"inputs": [{"name": "x", "shape": [1, 30], "datatype": "FP64",
                                               "data": [row]}]}, self.booster)
        self.assertIsNone(infer.check_response(200, json.dumps(answer),
                                               self.expected["predictions"][:1]))
        self.assertTrue(answer["id"])

    def test_bad_requests_are_422(self):
        good = {"name": "x", "shape": [1, 30], "datatype": "FP32", "data": [0.0] * 30}
        bad = [[], {"inputs": []}, {"inputs": [dict(good, datatype="BYTES")]},
               {"inputs": [dict(good, shape=[1, 29])]}, {"inputs": [dict(good, shape=[30])]},
               {"inputs": [dict(good, data=[0.0] * 29)]},
               {"inputs": [dict(good, data=["a"] * 30)]}, {"inputs": [dict(good, data=None)]}]
        for body in bad:
            with self.assertRaises(peer_model.InferError, msg=body) as cm:
                peer_model.infer(body, self.booster)
            self.assertEqual(cm.exception.status, 422)


if __name__ == "__main__":
    unittest.main()
