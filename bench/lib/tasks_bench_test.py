"""S9's options and pieces that need no server (python3 -m unittest, from bench/lib)."""
import io
import json
import unittest
from contextlib import redirect_stderr

import main
import scenarios
import servers
import tasks_bench


class S9Test(unittest.TestCase):
    def test_named_not_default(self):
        self.assertNotIn("S9", main.parse_args([]).scenarios)
        args = main.parse_args(["--scenarios", "s9", "--s9-concurrency", "4", "--s9-runs", "1"])
        self.assertEqual(args.scenarios, ["S9"])
        self.assertEqual((args.s9_concurrency, args.s9_runs), (4, 1))
        self.assertIn("S9", scenarios.FLEET_SCENARIOS)  # it needs vigil_fleet_load
        self.assertTrue(scenarios.needs_vigil("S9", None))

    def test_bad_values(self):
        for argv in (["--s9-concurrency", "0"], ["--s9-runs", "0"]):
            with self.assertRaises(SystemExit), redirect_stderr(io.StringIO()):
                main.parse_args(argv)

    def test_the_task_is_one_row_of_the_model_by_feature_name(self):
        features, body = tasks_bench._row_body()
        expected = json.loads(servers.MODEL_EXPECTED.read_text())
        self.assertEqual(features, expected["features"])
        self.assertEqual(body["model"], servers.MODEL_NAME)
        self.assertEqual(len(body["rows"]), 1)
        self.assertEqual(list(body["rows"][0]), features)
        self.assertEqual(list(body["rows"][0].values()), expected["rows"][0])


if __name__ == "__main__":
    unittest.main()
