"""bench/run: runs the chosen scenarios, prints their tables, appends them to bench/results/."""
import argparse
import console
import detect_bench
import fleet
import shlex
import signal
import sys
from pathlib import Path

import report
import scenarios
import servers
from servers import BenchError

TARGETS = scenarios.ALL_TARGETS


def parse_args(argv):
    p = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    p.add_argument("--scenarios", default=",".join(scenarios.DEFAULT_SCENARIOS),
                   help=f"comma-separated, any of {','.join(scenarios.SCENARIOS)}; default "
                        f"%(default)s (S5, S6, S7, S8, S9, S12 and NAB take a minute or more or "
                        f"need outside data: name them)")
    p.add_argument("--duration", type=int, default=10, help="S1-S3 seconds per wrk run (10)")
    p.add_argument("--runs", type=int, default=3, help="S1-S3 runs per target (3)")
    p.add_argument("--warmup", type=int, default=2,
                   help="S1-S3 warm-up seconds before each run (2)")
    p.add_argument("--targets", default=None,
                   help=f"what to measure, any of {','.join(TARGETS)}; each scenario takes the "
                        f"ones it knows. Default: S1 {','.join(scenarios.TARGETS)} "
                        f"(vigil-noaudit only when S1 runs on the auth path), S2/S3 "
                        f"{','.join(scenarios.INFER_TARGETS)}")
    p.add_argument("--s1-path", choices=scenarios.S1_PATHS, default="auto",
                   help="S1 endpoint: auth = GET /api/v1/auth/me with a token (an error if Vigil "
                        "has no login), healthz = GET /healthz, auto (default) = auth, or healthz "
                        "for every target when Vigil's login answers 404")
    p.add_argument("--s7-sessions", type=int, default=fleet.S7_DEFAULT_SESSIONS,
                   help="S7 device sessions to hold (%(default)s; fewer when the machine's "
                        "descriptor limit allows fewer, which the results say)")
    p.add_argument("--s7-measure", type=float, default=20.0,
                   help="S7 seconds of pings, each session one ping (%(default)s: the protocol's "
                        "ping interval)")
    p.add_argument("--s8-agents", type=int, default=fleet.S8_DEFAULT_AGENTS,
                   help="S8 connected agents the rollout goes to (%(default)s)")
    p.add_argument("--s8-runs", type=int, default=3, help="S8 rollouts, one after the other (3)")
    p.add_argument("--s8-timeout", type=float, default=120.0,
                   help="S8 seconds a rollout may take before the run gives up (%(default)s)")
    p.add_argument("--fleet-load", type=Path, default=None,
                   help="the S7/S8 load client (default: bench/fleet_load/vigil_fleet_load in the "
                        "build dir of --vigil)")
    p.add_argument("--s9-concurrency", type=int, default=8,
                   help="S9: task round trips in flight at once, per target (8)")
    p.add_argument("--s9-runs", type=int, default=3, help="S9: runs per target, in rotation (3)")
    p.add_argument("--s4-sensors", type=int, default=8, help="S4: sensors written (8)")
    p.add_argument("--s4-concurrency", type=int, default=8,
                   help="S4: ingest requests in flight at once (8)")
    p.add_argument("--s4-points", type=int, default=1000, help="S4: points per request (1000)")
    p.add_argument("--s10-runs", type=int, default=10, help="S10 drops timed one by one (10)")
    p.add_argument("--s10-files", type=int, default=60,
                   help="S10 files dropped at once for records/s (60)")
    p.add_argument("--s11-runs", type=int, default=5, help="S11 cold starts (5)")
    p.add_argument("--s12-runs", type=int, default=console.DEFAULT_RUNS,
                   help="S12 runs, each a cold and a warm load of each page (%(default)s)")
    p.add_argument("--web", type=Path, default=console.DEFAULT_WEB,
                   help="S12: the console's dir, for playwright-core (its node_modules) and the "
                        "web/dist total (web/ of this checkout)")
    p.add_argument("--node", type=Path, default=console.DEFAULT_NODE,
                   help="S12: the node that runs bench/console/s12.mjs (%(default)s)")
    p.add_argument("--chromium", type=Path, default=console.DEFAULT_CHROMIUM,
                   help="S12: the browser (%(default)s)")
    p.add_argument("--s5-runs", type=int, default=3,
                   help="S5: timed self-joins per target, Vigil and STUMPY (3; the median)")
    p.add_argument("--stumpy", type=Path, default=None,
                   help="S5's peer: a checkout of STUMPY's source (github stumpy-dev/stumpy), "
                        "run with Debian's python3-numba; without it the peer is skipped (said "
                        "loudly) and S5's goal is not met")
    p.add_argument("--s6-rounds", type=int, default=5,
                   help="S6: points per sensor, one round after the other (5)")
    p.add_argument("--s6-threads", type=int, default=2, help="S6: threads (2)")
    p.add_argument("--detect-bench", type=Path, default=None,
                   help="S5/S6: vigil_detect_bench (default: bench/detect/vigil_detect_bench in "
                        "the build dir of --vigil)")
    p.add_argument("--nab-data", type=Path, default=None,
                   help="NAB: the benchmark's files (data/, labels/combined_windows.json, "
                        "profiles.json or config/profiles.json), e.g. shared/data/nab or a NAB "
                        "checkout; AGPL, read from there, never copied")
    p.add_argument("--vigil", type=Path, default=servers.DEFAULT_VIGIL,
                   help="the binary under test (build/release/vigil)")
    p.add_argument("--baseline", type=Path, default=None,
                   help="a second Vigil binary (e.g. built from main before a change), measured "
                        "in the same run as target vigil-base; S1-S3 add it by default")
    p.add_argument("--results-dir", type=Path, default=servers.REPO / "bench" / "results")
    p.add_argument("--no-results", action="store_true", help="print only, write no file")
    p.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = p.parse_args(argv)

    args.scenarios = [s.strip().upper() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in args.scenarios if s not in scenarios.SCENARIOS]
    if unknown:
        p.error(f"unknown scenario(s) {','.join(unknown)}; known: {','.join(scenarios.SCENARIOS)}")
    if args.targets is not None:  # None: the default set, chosen by S1 once it knows its path
        args.targets = list(dict.fromkeys(
            t.strip().lower() for t in args.targets.split(",") if t.strip()))
        bad = [t for t in args.targets if t not in TARGETS]
        if bad or not args.targets:
            p.error(f"unknown target(s) {','.join(bad)}; known: {','.join(TARGETS)}")
        for s in args.scenarios:
            if s in scenarios.SCENARIO_TARGETS and not scenarios.scenario_targets(s, args.targets):
                p.error(f"--targets names none of {s}'s targets "
                        f"({','.join(scenarios.SCENARIO_TARGETS[s])})")
    if min(args.duration, args.runs, args.s11_runs, args.s12_runs) < 1 or args.warmup < 0:
        p.error("--duration, --runs, --s11-runs and --s12-runs must be ≥ 1, --warmup ≥ 0")
    if min(args.s5_runs, args.s6_rounds, args.s6_threads) < 1:
        p.error("--s5-runs, --s6-rounds and --s6-threads must be ≥ 1")
    if "NAB" in args.scenarios and args.nab_data is None:
        p.error("scenario NAB needs --nab-data DIR")
    for name in ("stumpy", "detect_bench", "nab_data"):
        if getattr(args, name) is not None:
            setattr(args, name, getattr(args, name).resolve())
    if min(args.s9_concurrency, args.s9_runs) < 1:
        p.error("--s9-concurrency and --s9-runs must be ≥ 1")
    if min(args.s4_sensors, args.s4_concurrency, args.s4_points) < 1 or args.s4_points > 100000:
        p.error("--s4-sensors and --s4-concurrency must be ≥ 1, --s4-points 1-100000")
    if min(args.s7_sessions, args.s8_agents, args.s8_runs) < 1 or min(args.s7_measure,
                                                                       args.s8_timeout) <= 0:
        p.error("--s7-sessions, --s8-agents and --s8-runs must be ≥ 1, --s7-measure and "
                "--s8-timeout > 0")
    args.vigil = args.vigil.resolve()
    args.web = args.web.resolve()
    if args.fleet_load is not None:
        args.fleet_load = args.fleet_load.resolve()
    if args.baseline is not None:
        args.baseline = args.baseline.resolve()
    elif args.targets and scenarios.BASELINE in args.targets:
        p.error(f"--targets names {scenarios.BASELINE}, which needs --baseline BIN")
    return args


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv):
    args = parse_args(argv)
    # SIGTERM/SIGHUP unwind like Ctrl-C, so every `finally` stops its servers. (bench/run
    # forwards Ctrl-C as SIGTERM: a background child of a script starts with SIGINT ignored.)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)

    if any(scenarios.needs_vigil(s, args.targets) for s in args.scenarios):
        servers.require_vigil(args.vigil)
    if args.baseline is not None:
        servers.require_vigil(args.baseline)
    if scenarios.FLEET_SCENARIOS & set(args.scenarios):
        fleet.fleet_load_binary(args)
    if "S12" in args.scenarios:
        console.require(args)
    if scenarios.DETECT_SCENARIOS & set(args.scenarios):
        detect_bench.detect_bench_binary(args)
    if "S5" in args.scenarios and detect_bench.stumpy_missing(args):
        print(f"bench: !!! S5's STUMPY peer will be skipped: {detect_bench.stumpy_missing(args)}",
              file=sys.stderr)
    if "NAB" in args.scenarios:
        detect_bench.nab_paths(args.nab_data)

    started = report.now()
    command = "bench/run " + " ".join(map(shlex.quote, argv))
    sections = [scenarios.SCENARIOS[name](args) for name in args.scenarios]

    text = report.heading(command.strip(), started) + "".join(
        "\n" + s.markdown() for s in sections)
    print("\n" + text)
    if not args.no_results:
        path = report.write(args.results_dir, started, text)
        print(f"bench: results appended to {path}")
    for warning in (w for s in sections for w in s.warnings):
        print(f"bench: !!! {warning}", file=sys.stderr)
    missed = sum(not ok for s in sections for ok in s.met)
    if missed:
        print(f"bench: {missed} goal(s) missed", file=sys.stderr)
    return 1 if (args.strict and missed) else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BenchError as e:
        print(f"bench: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        sys.exit(130)
