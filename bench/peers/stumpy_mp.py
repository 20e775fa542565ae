"""S5's peer: STUMPY's matrix-profile self-join (`stumpy.stump`, numba, parallel) on a random walk,
timed the way vigil_detect_bench s5 times src/detect: cells/s counts (n - m + 1)^2 / 2 cells.

STUMPY is not a Debian package: point --stumpy at a checkout of its source (github
stumpy-dev/stumpy) kept outside this repository; numba and numpy are Debian's
(python3-numba, python3-numpy), so run it with /usr/bin/python3.

    stumpy_mp.py --stumpy /work/peers/stumpy [--n 65536] [--m 256] [--threads 2] [--runs 3]

The first call compiles (numba) on a short series and is not timed. Exclusion zone: STUMPY's
default, ceil(m / 4). Prints the runs on stderr and one JSON line on stdout.
"""
import argparse
import json
import os
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stumpy", required=True, help="a checkout of STUMPY's source")
    ap.add_argument("--n", type=int, default=65536)
    ap.add_argument("--m", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    if a.n < a.m or a.m < 3 or a.threads < 1 or a.runs < 1:
        ap.error("need 3 <= m <= n, threads >= 1, runs >= 1")
    os.environ["NUMBA_NUM_THREADS"] = str(a.threads)  # before numba loads
    sys.path.insert(0, a.stumpy)
    import numba
    import numpy as np
    import stumpy

    numba.set_num_threads(a.threads)
    rng = np.random.default_rng(1)
    t = np.cumsum(rng.standard_normal(a.n))
    stumpy.stump(t[: min(a.n, 4 * a.m)], a.m)  # compile
    secs = []
    for r in range(a.runs):
        t0 = time.perf_counter()
        p = stumpy.stump(t, a.m)
        secs.append(time.perf_counter() - t0)
        assert p.shape[0] == a.n - a.m + 1
        print(f"stumpy run {r + 1}: {secs[-1]:.3f} s", file=sys.stderr)
    secs.sort()
    l = a.n - a.m + 1
    cells = l * l / 2
    median = secs[len(secs) // 2]
    try:
        commit = subprocess.run(["git", "-C", a.stumpy, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "?"
    print(json.dumps({"peer": "stumpy.stump", "stumpy_commit": commit,
                      "numba": numba.__version__, "n": a.n, "m": a.m, "threads": a.threads,
                      "seconds_median": median, "seconds_best": secs[0], "cells": cells,
                      "cells_per_s": cells / median}))


if __name__ == "__main__":
    main()
