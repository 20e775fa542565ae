"""NAB's scoring rules on tiny hand-made files (python3 -m unittest, from bench/lib)."""
import math
import os
import tempfile
import unittest

import nab_score as ns

STD = ns.PROFILES["standard"]


def sig(x):
    return 2 / (1 + math.exp(5 * x)) - 1


def series(n, hits, window=(10, 13), value=1.0):
    """n rows with timestamps 0..n-1, score `value` at the rows in hits, 0 elsewhere."""
    ts = list(range(n))
    return ts, [value if i in hits else 0.0 for i in range(n)], [window] if window else []


class RulesTest(unittest.TestCase):
    def test_scaled_sigmoid(self):
        self.assertAlmostEqual(ns.scaled_sigmoid(-1.0), 0.98661, places=5)
        self.assertAlmostEqual(ns.scaled_sigmoid(-0.5), 0.84828, places=5)
        self.assertEqual(ns.scaled_sigmoid(0.0), 0.0)
        self.assertAlmostEqual(ns.scaled_sigmoid(1.0), -0.98661, places=5)
        self.assertEqual(ns.scaled_sigmoid(3.5), -1.0)

    def test_probation(self):
        self.assertEqual(ns.probation_length(20), 3)
        self.assertEqual(ns.probation_length(4032), 604)
        self.assertEqual(ns.probation_length(22695), 750)

    def test_earliest_detection_in_a_window_earns_the_full_reward(self):
        ts, sc, w = series(20, {10})
        p = ns.best_threshold(ns.sweep_rows(ts, sc, w, "f", STD), STD)
        self.assertAlmostEqual(p.score, 1.0)
        self.assertEqual((p.threshold, p.tp, p.fp, p.windows_hit), (1.0, 1, 0, 1))

    def test_a_late_detection_earns_less_and_only_the_best_counts(self):
        ts, sc, w = series(20, {13})
        rows = ns.sweep_rows(ts, sc, w, "f", STD)
        want = sig(-0.25) / sig(-1.0)  # the last row: position -(13 - 13 + 1) / 4
        self.assertAlmostEqual(ns.best_threshold(rows, STD).score, want)
        ts, sc, w = series(20, {11, 12, 13})
        p = ns.best_threshold(ns.sweep_rows(ts, sc, w, "f", STD), STD)
        self.assertAlmostEqual(p.score, sig(-0.75) / sig(-1.0))
        self.assertEqual((p.tp, p.windows_hit), (3, 1))

    def test_false_positives_cost_by_distance_from_the_previous_window(self):
        # Before any window: -A_FP; after one: A_FP * sigmoid(distance / (width - 1)).
        ts, sc, w = series(20, {5, 10, 15})
        rows = ns.sweep_rows(ts, sc, w, "f", STD)
        total = ns.at_threshold(rows, STD, 1.0)
        self.assertAlmostEqual(total.score, -0.11 + 1.0 + 0.11 * sig(2 / 3))
        self.assertEqual(total.fp, 2)

    def test_probationary_rows_are_not_scored(self):
        # floor(0.15 * 20) = 3: a detection at row 2 is not a false positive; a window inside the
        # probation is neither rewarded nor missed.
        ts, sc, w = series(20, {2}, window=(0, 2))
        rows = ns.sweep_rows(ts, sc, w, "f", STD)
        self.assertEqual(len(rows), 17)
        self.assertEqual(ns.best_threshold(rows, STD).score, 0.0)

    def test_a_missed_window_costs_a_fn(self):
        ts, sc, w = series(20, set())
        self.assertEqual(ns.at_threshold(ns.sweep_rows(ts, sc, w, "f", STD), STD, 1.0).score, -1.0)
        low_fn = ns.PROFILES["reward_low_FN_rate"]
        rows = ns.sweep_rows(ts, sc, w, "f", low_fn)
        self.assertEqual(ns.at_threshold(rows, low_fn, 1.0).score, -2.0)
        # Detecting every row (threshold 0) catches it, at the cost of 13 false positives.
        self.assertAlmostEqual(ns.at_threshold(rows, low_fn, 0.0).score,
                               1.0 - 0.11 * (7 + sum(-sig(abs(13 - i) / 3) for i in range(14, 20))))

    def test_the_threshold_is_the_best_for_the_corpus_and_the_highest_on_a_tie(self):
        # (Long files: the null detector then misses every window.)
        # File a: its window caught at 0.9. File b: a window caught only at 0.4, with false
        # positives at 0.6 and 0.5 on the way: at 0.4 the corpus gains 1 + 1 - 0.22 > 1 - 1.
        a = series(20, set())
        a[1][10] = 0.9
        b = series(20, set())
        b[1][5], b[1][6], b[1][10] = 0.6, 0.5, 0.4
        rows = ns.sweep_rows(*a, "a", STD) + ns.sweep_rows(*b, "b", STD)
        best = ns.best_threshold(rows, STD)
        self.assertEqual(best.threshold, 0.4)
        self.assertAlmostEqual(best.score, 2 - 0.22)
        # With A_FP 0.22 the same: 2 - 0.44 still beats 0.
        low_fp = ns.PROFILES["reward_low_FP_rate"]
        rows = ns.sweep_rows(*a, "a", low_fp) + ns.sweep_rows(*b, "b", low_fp)
        self.assertEqual(ns.best_threshold(rows, low_fp).threshold, 0.4)
        # A tie (nothing at all in a file without windows) keeps the highest threshold.
        c = series(20, set(), window=None)
        self.assertEqual(ns.best_threshold(ns.sweep_rows(*c, "c", STD), STD).threshold, ns.NEVER)

    def test_normalised_against_the_null_and_the_perfect_detector(self):
        files = {"a": series(200, {100}, (100, 103)), "b": series(200, set(), (100, 103))}
        r = ns.score_corpus(files)
        std = r["standard"]
        self.assertEqual((std.null, std.perfect), (-2.0, 2.0))
        self.assertAlmostEqual(std.raw, 0.0)  # one caught (+1), one missed (-1)
        self.assertAlmostEqual(std.score, 50.0)
        self.assertAlmostEqual(r["reward_low_FN_rate"].score, 100 * (1 - 2 + 4) / (2 + 4))
        self.assertEqual([f.windows_hit for f in std.files], [1, 0])
        perfect = ns.score_corpus({"a": series(200, {100}, (100, 103))})["standard"]
        self.assertAlmostEqual(perfect.score, 100.0)

    def test_windows_must_match_rows(self):
        with self.assertRaises(ValueError):
            ns.sweep_rows(*series(20, set(), window=(10, 30)), "f", STD)

    def test_reads_nabs_files(self):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "res", "cat"))
            with open(os.path.join(d, "labels.json"), "w") as f:
                f.write('{"cat/x.csv": [["2015-01-01 00:02:00.000000", '
                        '"2015-01-01 00:03:00.000000"]]}')
            with open(os.path.join(d, "res", "cat", "vigil_x.csv"), "w") as f:
                f.write("timestamp,value,anomaly_score\n")
                for i in range(20):
                    f.write(f"2015-01-01 00:{i:02d}:00,{i},{1.0 if i == 2 else 0.0}\n")
            labels = ns.read_labels(os.path.join(d, "labels.json"))
            files = ns.load_corpus(os.path.join(d, "res"), labels, "vigil")
            self.assertEqual(len(files["cat/x.csv"][0]), 20)
            # The window is inside the probation (rows 0-2): nothing to score.
            self.assertEqual(ns.score_corpus(files)["standard"].perfect, 1.0)
            with self.assertRaises(FileNotFoundError):
                ns.load_corpus(os.path.join(d, "res"), labels, "other")


if __name__ == "__main__":
    unittest.main()
