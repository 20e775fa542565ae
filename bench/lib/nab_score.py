"""A scorer for the Numenta Anomaly Benchmark's published rules (NAB 1.x: Lavin & Ahmad 2015,
"Evaluating Real-time Anomaly Detection Algorithms - the Numenta Anomaly Benchmark"), written
from those rules; no NAB code or data lives in this repository.

The rules, as NAB's scorer applies them:
- Each data file's first min(floor(0.15 n), 0.15 * 5000) rows are probationary: not scored.
- Each labelled window [start, end] (timestamps of two rows) is one anomaly. A row inside a window
  whose anomaly score reaches the threshold is a detection; the window's reward is its best
  detection's: A_TP * sigmoid(position) / sigmoid(-1), position = -(end_index - i + 1) / width
  from -1 at the left edge to 0 past the right edge (earlier is better), with
  sigmoid(x) = 2 / (1 + e^(5x)) - 1. A window with no detection costs -A_FN.
- A row outside every window whose score reaches the threshold is a false positive and costs
  A_FP * sigmoid(distance past the previous window's right edge / (that window's width - 1)),
  or -A_FP when no window came before (-1 beyond 3 widths): a detection just after a window
  costs less than one far from any.
- One threshold for the whole corpus and each profile: the one of the detector's distinct
  scores (or 1.1: never) that maximises the corpus total.
- Normalised score = 100 * (total - null) / (perfect - null), where null is the total of a
  detector that outputs a constant 0.5 (with its own best threshold: in effect every window
  missed) and perfect = A_TP * (number of windows).
- Profiles (profiles.json): standard (A_TP 1, A_FP 0.11, A_FN 1), reward_low_FP_rate (A_FP 0.22),
  reward_low_FN_rate (A_FN 2).

Usage (also importable; bench/lib/nab_bench.py runs it as scenario NAB):
    nab_score.py --results DIR --labels combined_windows.json --profiles profiles.json
                 [--detector vigil] [--json]
DIR holds <category>/<detector>_<file>.csv with the columns timestamp, value, anomaly_score
(NAB's results layout); each file is scored against the windows of <category>/<file>.
"""
import argparse
import csv
import datetime
import json
import math
import os
import sys
from dataclasses import dataclass, field

PROBATION_PERCENT = 0.15
NEVER = 1.1  # the threshold above every score: nothing detected
PROFILES = {
    "standard": {"tpWeight": 1.0, "fpWeight": 0.11, "fnWeight": 1.0},
    "reward_low_FP_rate": {"tpWeight": 1.0, "fpWeight": 0.22, "fnWeight": 1.0},
    "reward_low_FN_rate": {"tpWeight": 1.0, "fpWeight": 0.11, "fnWeight": 2.0},
}


def scaled_sigmoid(position):
    """NAB's reward by relative position: 2 sigmoid(-5 x) - 1, and -1 beyond 3 widths."""
    if position > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def probation_length(rows, percent=PROBATION_PERCENT):
    return min(math.floor(percent * rows), percent * 5000)


@dataclass
class Row:
    """One scorable row: its anomaly score, the weighted reward if detected, its window or None."""
    score: float
    reward: float
    window: object  # (file, window index) or None


def sweep_rows(timestamps, scores, windows, name, cost, percent=PROBATION_PERCENT):
    """The scorable rows of one file (probationary rows left out).

    timestamps: the file's row timestamps (comparable with the window limits); windows: a list of
    (start, end) timestamps, in order, each matching a row; name: the file's name, to tell its
    windows from other files'."""
    if len(timestamps) != len(scores):
        raise ValueError(f"{name}: {len(timestamps)} timestamps but {len(scores)} scores")
    index = {t: i for i, t in enumerate(timestamps)}
    spans = []
    for start, end in windows:
        if start not in index or end not in index:
            raise ValueError(f"{name}: window {start} .. {end} does not match the rows")
        spans.append((index[start], index[end]))
    max_tp = scaled_sigmoid(-1.0)
    probation = probation_length(len(timestamps), percent)
    rows = []
    cur = None  # (window index, left, right)
    prev_right = prev_width = None
    pending = list(enumerate(spans))
    for i, s in enumerate(scores):
        if pending and i == pending[0][1][0]:
            k, (left, right) = pending.pop(0)
            cur = (k, left, right)
        if cur is not None:
            k, left, right = cur
            width = right - left + 1
            reward = scaled_sigmoid(-(right - i + 1) / width) * cost["tpWeight"] / max_tp
            window = (name, k)
        else:
            if prev_right is None:
                unweighted = -1.0
            else:
                unweighted = scaled_sigmoid(abs(prev_right - i) / (prev_width - 1))
            reward = unweighted * cost["fpWeight"]
            window = None
        if i >= probation:
            rows.append(Row(float(s), reward, window))
        if cur is not None and i == cur[2]:
            prev_right, prev_width = cur[2], cur[2] - cur[1] + 1
            cur = None
    return rows


@dataclass
class Point:
    """The corpus (or one file) scored at one threshold."""
    threshold: float
    score: float
    tp: int = 0
    fp: int = 0
    windows_hit: int = 0


def scores_by_threshold(rows, cost):
    """Every distinct threshold, from NEVER down to the lowest score, and the total at each
    (rows at or above the threshold are detections)."""
    rows = sorted(rows, key=lambda r: r.score, reverse=True)
    best = {r.window: -cost["fnWeight"] for r in rows if r.window is not None}
    windows_total = -cost["fnWeight"] * len(best)  # sum of best over the windows
    fp_total = 0.0
    hit = set()
    tp = fp = 0
    out = []
    threshold = NEVER
    for r in rows:
        if r.score != threshold:
            out.append(Point(threshold, windows_total + fp_total, tp, fp, len(hit)))
            threshold = r.score
        if r.window is None:
            fp += 1
            fp_total += r.reward
        else:
            tp += 1
            hit.add(r.window)
            if r.reward > best[r.window]:
                windows_total += r.reward - best[r.window]
                best[r.window] = r.reward
    out.append(Point(threshold, windows_total + fp_total, tp, fp, len(hit)))
    return out


def best_threshold(rows, cost):
    """The point with the highest total; on a tie, the highest threshold (as NAB's stable sort)."""
    points = scores_by_threshold(rows, cost)
    return max(points, key=lambda p: p.score)  # max keeps the first of equals


def at_threshold(rows, cost, threshold):
    """The total of these rows with detections at score >= threshold."""
    points = scores_by_threshold(rows, cost)
    chosen = points[0]
    for p in points:
        if p.threshold < threshold:
            break
        chosen = p
    return chosen


@dataclass
class FileResult:
    name: str
    windows: int
    score: float = 0.0  # raw, at the corpus threshold
    null: float = 0.0  # the null detector's raw score on this file
    windows_hit: int = 0
    fp_rows: int = 0

    def normalised(self, cost):
        perfect = cost["tpWeight"] * self.windows
        return 100.0 * (self.score - self.null) / (perfect - self.null) \
            if perfect != self.null else 0.0


@dataclass
class ProfileResult:
    profile: str
    threshold: float
    raw: float
    null: float
    perfect: float
    score: float  # normalised
    files: list = field(default_factory=list)


def score_corpus(files, profiles=None, percent=PROBATION_PERCENT):
    """files: {name: (timestamps, scores, windows)}. Returns {profile: ProfileResult}."""
    profiles = profiles or PROFILES
    out = {}
    for profile, cost in profiles.items():
        per_file = {name: sweep_rows(ts, sc, w, name, cost, percent)
                    for name, (ts, sc, w) in files.items()}
        nulls = {name: sweep_rows(ts, [0.5] * len(ts), w, name, cost, percent)
                 for name, (ts, sc, w) in files.items()}
        everything = [r for rows in per_file.values() for r in rows]
        best = best_threshold(everything, cost)
        null_all = [r for rows in nulls.values() for r in rows]
        null_best = best_threshold(null_all, cost)
        windows = sum(len(w) for (_, _, w) in files.values())
        perfect = cost["tpWeight"] * windows
        result = ProfileResult(profile, best.threshold, best.score, null_best.score, perfect,
                               100.0 * (best.score - null_best.score) / (perfect - null_best.score))
        for name, rows in per_file.items():
            p = at_threshold(rows, cost, best.threshold)
            n = at_threshold(nulls[name], cost, null_best.threshold)
            result.files.append(FileResult(name, len(files[name][2]), p.score, n.score,
                                           p.windows_hit, p.fp))
        out[profile] = result
    return out


def parse_time(text):
    return datetime.datetime.fromisoformat(text.strip())


def read_labels(path):
    """combined_windows.json: {"<category>/<file>.csv": [[start, end], ...]}."""
    with open(path) as f:
        raw = json.load(f)
    return {name: [(parse_time(a), parse_time(b)) for a, b in spans]
            for name, spans in raw.items()}


def read_profiles(path):
    with open(path) as f:
        raw = json.load(f)
    return {name: {k: float(v) for k, v in p["CostMatrix"].items() if k != "tnWeight"}
            for name, p in raw.items()}


def read_results(path):
    """timestamps and anomaly scores of one results CSV (header with timestamp, anomaly_score)."""
    timestamps, scores = [], []
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or "timestamp" not in reader.fieldnames \
                or "anomaly_score" not in reader.fieldnames:
            raise ValueError(f"{path}: needs the columns timestamp and anomaly_score")
        for row in reader:
            timestamps.append(parse_time(row["timestamp"]))
            s = float(row["anomaly_score"])
            if not 0.0 <= s <= 1.0:
                raise ValueError(f"{path}: anomaly_score {s} outside [0, 1]")
            scores.append(s)
    return timestamps, scores


def load_corpus(results_dir, labels, detector):
    """{name: (timestamps, scores, windows)} for every labelled file; a missing results file is
    an error (a detector must answer every file it is scored on)."""
    files = {}
    for name, windows in sorted(labels.items()):
        category, base = os.path.split(name)
        path = os.path.join(results_dir, category, f"{detector}_{base}")
        if not os.path.exists(path):
            raise FileNotFoundError(f"no results for {name}: {path}")
        ts, sc = read_results(path)
        files[name] = (ts, sc, windows)
    return files


def to_json(results):
    return {p: {"threshold": r.threshold, "raw": r.raw, "null": r.null, "perfect": r.perfect,
                "score": r.score,
                "files": [{"name": f.name, "windows": f.windows, "windows_hit": f.windows_hit,
                           "fp_rows": f.fp_rows, "raw": f.score, "null": f.null}
                          for f in r.files]}
            for p, r in results.items()}


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", required=True, help="the detector's results dir")
    ap.add_argument("--labels", required=True, help="NAB's labels/combined_windows.json")
    ap.add_argument("--profiles", default=None, help="NAB's config/profiles.json (built in)")
    ap.add_argument("--detector", default="vigil", help="file prefix of the results (vigil)")
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout")
    a = ap.parse_args(argv)
    labels = read_labels(a.labels)
    profiles = read_profiles(a.profiles) if a.profiles else PROFILES
    results = score_corpus(load_corpus(a.results, labels, a.detector), profiles)
    if a.json:
        print(json.dumps(to_json(results)))
        return 0
    for p, r in results.items():
        print(f"{p}: {r.score:.2f} (threshold {r.threshold:.6g}, raw {r.raw:.3f}, "
              f"null {r.null:.3f}, perfect {r.perfect:.1f})")
    std = results.get("standard") or next(iter(results.values()))
    for f in std.files:
        print(f"  {f.name}: windows {f.windows_hit}/{f.windows}, fp rows {f.fp_rows}, "
              f"raw {f.score:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
