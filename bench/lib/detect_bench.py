"""S5 and S6 of BENCHMARKS.md (src/detect through bench/detect/vigil_detect_bench) and Q1, the
NAB score of `vigil detect --nab` (scenario NAB).

- S5: matrix-profile self-join of a random walk, n 65 536, m 256, z-normalised, 2 threads:
  `vigil_detect_bench s5` and its peer `peers/stumpy_mp.py` (stumpy.stump, numba, 2 threads)
  in the same run; cells/s of each (medians of --s5-runs), Vigil ÷ STUMPY ≥ 5. STUMPY is not a
  Debian package: --stumpy names a checkout of its source; without one the peer is skipped,
  said loudly, and the goal is not met.
- S6: one point to each of 10 000 sensors' IncrementalProfile (window 144, history 2 048),
  --s6-rounds rounds on --s6-threads threads: points/s ≥ 250 000, and how close the memory
  traffic that implies comes to a memcpy's bandwidth measured in the same run.
- NAB: `vigil detect --nab <data>` into a temp dir, scored by nab_score.py against the labels
  and profiles found beside the data: standard, reward_low_FP_rate, reward_low_FN_rate, and
  each series. Goal (Q1): standard ≥ 75.
"""
import json
import os
import subprocess
import sys
import time

import nab_score
import servers
from report import Section, ratio, yes_no
from servers import BenchError

S5_MIN_RATIO = 5.0
S6_MIN_POINTS = 250_000
NAB_MIN_STANDARD = 75.0
STUMPY_PEER = servers.PEERS / "stumpy_mp.py"
PYTHON = "/usr/bin/python3"  # Debian's: python3-numba, python3-numpy


def progress(text):
    print(text, file=sys.stderr, flush=True)


def detect_bench_binary(args):
    """--detect-bench, else bench/detect/vigil_detect_bench in the build dir of --vigil."""
    return servers.built_binary(args.detect_bench, args.vigil, "bench/detect/vigil_detect_bench",
                                "vigil_detect_bench", "--detect-bench")


def stumpy_missing(args):
    """Why the STUMPY peer cannot run (None when it can)."""
    if args.stumpy is None:
        return "no --stumpy DIR given (a checkout of github stumpy-dev/stumpy)"
    if not (args.stumpy / "stumpy" / "__init__.py").is_file():
        return f"--stumpy {args.stumpy} holds no stumpy/__init__.py"
    return None


def last_json(text, what):
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise BenchError(f"{what}: no JSON line in its output")


def run_json(argv, what, timeout, env=None):
    progress(f"{what}: {' '.join(map(str, argv))}")
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                          timeout=timeout, env=env)
    if done.returncode != 0:
        raise BenchError(f"{what} failed (exit {done.returncode}): {done.stderr[-1500:]}")
    return last_json(done.stdout, what)


def s5(args):
    """Self-join cells/s, Vigil and STUMPY in the same run."""
    binary = detect_bench_binary(args)
    vigil = run_json([binary, "s5", "--runs", args.s5_runs], "S5 vigil", 1800)
    missing = stumpy_missing(args)
    peer = None
    warnings = []
    if missing:
        warnings.append(f"S5: STUMPY peer SKIPPED: {missing}; the ratio goal is not met")
        progress(f"bench: !!! {warnings[-1]}")
    else:
        env = dict(os.environ, NUMBA_NUM_THREADS="2")
        peer = run_json([PYTHON, STUMPY_PEER, "--stumpy", args.stumpy, "--n", vigil["n"],
                         "--m", vigil["m"], "--threads", 2, "--runs", args.s5_runs],
                        "S5 stumpy", 3600, env=env)
    x = vigil["cells_per_s"] / peer["cells_per_s"] if peer else None
    ok = x is not None and x >= S5_MIN_RATIO
    notes = [f"Self-join of a random walk, n = {vigil['n']}, m = {vigil['m']}, z-normalised, "
             f"exclusion {vigil['exclusion']} (STUMPY's ceil(m/4)), 2 threads, "
             f"{args.s5_runs} runs each; cells = (n − m + 1)² / 2; medians. Vigil's kernels: "
             f"{vigil['kernels']}. Exactness (≤ 1e-6 against a naive reference) is checked by "
             f"src/detect's unit tests, not here."]
    if peer:
        notes.append(f"Peer: stumpy.stump (STUMPY {peer['stumpy_commit']}, numba "
                     f"{peer['numba']}, NUMBA_NUM_THREADS = 2), after a compiling call.")
    else:
        notes.append(f"**STUMPY peer skipped: {missing}.**")
    header = ["target", "s (median)", "s (best)", "cells/s", "Vigil ÷ target", "goal", "met"]
    rows = [["vigil", f"{vigil['seconds_median']:.3f}", f"{vigil['seconds_best']:.3f}",
             f"{vigil['cells_per_s']:.3g}", "—", f"≥ {S5_MIN_RATIO:g}× STUMPY", yes_no(ok)]]
    if peer:
        rows.append(["stumpy", f"{peer['seconds_median']:.3f}", f"{peer['seconds_best']:.3f}",
                     f"{peer['cells_per_s']:.3g}", ratio(x), "—", "—"])
    return Section("S5 · matrix-profile self-join", notes, header, rows, [ok], warnings)


def s6(args):
    """Incremental left profile over 10 000 sensors; memcpy's bandwidth in the same run."""
    r = run_json([detect_bench_binary(args), "s6", "--rounds", args.s6_rounds,
                  "--threads", args.s6_threads], "S6 vigil", 1800)
    ok = r["points_per_s"] >= S6_MIN_POINTS
    share = r["traffic_gb_per_s"] / r["memcpy_gb_per_s"] if r["memcpy_gb_per_s"] else None
    notes = [f"{r['sensors']} sensors, window {r['window']}, history {r['history']} points, "
             f"{'z-normalised' if r['normalize'] else 'plain Euclidean'}, each given the same "
             f"full history, then one point each per round, {args.s6_rounds} rounds on "
             f"{r['threads']} threads (a block of sensors each); kernels {r['kernels']}.",
             f"Memory: {r['state_bytes_per_sensor']} B of state per sensor "
             f"({r['sensors'] * r['state_bytes_per_sensor'] / 2**20:.0f} MiB in all, far beyond "
             f"the caches); each point reads and writes its lag sums and reads the history: "
             f"{r['traffic_gb_per_s']:.1f} GB/s at this rate, against "
             f"{r['memcpy_gb_per_s']:.1f} GB/s for a single-threaded memcpy of 256 MiB "
             f"(read + write) measured in the same run"
             + (f": {share:.0%} of it." if share is not None else ".")]
    header = ["target", "points/s", "latency p50 µs", "latency p99 µs", "state GB/s",
              "memcpy GB/s", "÷ memcpy", "goal", "met"]
    rows = [["vigil", f"{r['points_per_s']:.0f}", f"{r['latency_p50_us']:.2f}",
             f"{r['latency_p99_us']:.2f}", f"{r['traffic_gb_per_s']:.1f}",
             f"{r['memcpy_gb_per_s']:.1f}", "—" if share is None else f"{share:.2f}",
             f"≥ {S6_MIN_POINTS:,} points/s".replace(",", " "), yes_no(ok)]]
    return Section("S6 · incremental detection, 10 000 sensors", notes, header, rows, [ok])


def nab_paths(root):
    """NAB's layout below root: data/, labels/combined_windows.json and profiles.json (the
    shared copy) or config/profiles.json (a NAB checkout)."""
    data, labels = root / "data", root / "labels" / "combined_windows.json"
    profiles = next((p for p in (root / "profiles.json", root / "config" / "profiles.json")
                     if p.is_file()), None)
    missing = [str(p) for p in (data, labels) if not p.exists()]
    if profiles is None:
        missing.append(f"{root}/profiles.json or {root}/config/profiles.json")
    if missing:
        raise BenchError(f"--nab-data {root}: missing {', '.join(missing)}")
    return data, labels, profiles


def nab(args):
    """vigil detect --nab, then the scorer."""
    if args.nab_data is None:
        raise BenchError("scenario NAB needs --nab-data DIR (NAB's data/, labels/ and profiles; "
                         "the corpus is AGPL and is never copied into this repository)")
    data, labels_path, profiles_path = nab_paths(args.nab_data)
    servers.require_vigil(args.vigil)
    out = servers.fresh_dir("nab-results")
    t0 = time.monotonic()
    done = subprocess.run([str(args.vigil), "detect", "--nab", str(data), "--out", str(out)],
                          capture_output=True, text=True, timeout=3600)
    seconds = time.monotonic() - t0
    if done.returncode != 0:
        raise BenchError(f"vigil detect --nab failed (exit {done.returncode}): "
                         f"{done.stderr[-1500:]}")
    progress(f"NAB: {done.stdout.strip()} in {seconds:.2f} s; scoring")
    labels = nab_score.read_labels(labels_path)
    profiles = nab_score.read_profiles(profiles_path)
    files = nab_score.load_corpus(out, labels, "vigil")
    rows_scored = sum(len(ts) for ts, _, _ in files.values())
    results = nab_score.score_corpus(files, profiles)
    std = results.get("standard")
    ok = std is not None and std.score >= NAB_MIN_STANDARD
    notes = [f"`vigil detect --nab {data}` ({len(files)} series, {rows_scored} rows, "
             f"{seconds:.2f} s) scored by bench/lib/nab_score.py with {labels_path.name} and "
             f"{profiles_path}: one threshold per profile, the best for the whole corpus; "
             f"normalised so that the null detector scores 0 and a perfect one 100.",
             "BENCHMARKS.md's Q1 target is ≥ 75 on all 58 series; a directory with fewer "
             "series is a different (smaller) corpus, not comparable with published figures."]
    header = ["profile", "score", "goal", "met", "threshold", "raw", "null", "perfect"]
    rows = [[p, f"{r.score:.2f}", f"≥ {NAB_MIN_STANDARD:g}" if p == "standard" else "—",
             yes_no(ok) if p == "standard" else "—", f"{r.threshold:.6g}", f"{r.raw:.3f}",
             f"{r.null:.3f}", f"{r.perfect:g}"] for p, r in results.items()]
    series = []
    if std is not None:
        cost = profiles["standard"]
        series = [[f.name, f"{f.windows_hit}/{f.windows}", f.fp_rows, f"{f.score:.3f}",
                   f"{f.normalised(cost):.1f}"] for f in std.files]
    tables = [("Per series, standard profile at the corpus threshold (windows detected, "
               "detections outside windows, raw score; the per-series normalised figure is "
               "against that series' own null and perfect, for reading only):",
               ["series", "windows", "false positives", "raw", "normalised"], series)]
    return Section("NAB · Numenta Anomaly Benchmark (Q1), vigil detect --nab", notes, header,
                   rows, [ok], tables=tables)
