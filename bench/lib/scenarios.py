"""The scenarios of docs BENCHMARKS.md that bench/run implements. Each returns a report.Section."""
import statistics
import sys

import servers
import wrk
from report import Section, ratio, yes_no

# S1 is specified on GET /api/v1/auth/me with a Bearer token. Until the auth endpoints exist it
# runs on /healthz (same keep-alive load, no token); switching means: this path, a token header
# for wrk (from POST /api/v1/auth/login for Vigil, seeded into the peers' token table), and the
# /api/v1/auth/me route in bench/peers/*_app.py. nginx answers any path with its fixed body.
S1_PATH = "/healthz"
S1_CONNECTIONS, S1_THREADS = 32, 2
# Goals from BENCHMARKS.md: Vigil's req/s over each peer's, and Vigil's own p99.
S1_MIN_RATIO = {"nginx": 0.8, "flask": 8.0, "fastapi": 50.0}
S1_MAX_P99_MS = 5.0
S11_MAX_MS = 200.0


def progress(text):
    print(text, file=sys.stderr, flush=True)


def _start(name, args):
    server = servers.vigil(args.vigil) if name == "vigil" else servers.PEER_FACTORIES[name]()
    server.start()
    server.wait_ready()
    return server


def s1(args):
    """Keep-alive HTTP throughput and latency: wrk on every target, runs interleaved."""
    running = {}
    samples = {name: [] for name in args.targets}
    try:
        for name in args.targets:
            running[name] = _start(name, args)
        for run in range(args.runs):
            # Rotate who goes first so drift over time (other tenants, heat) hits all alike.
            order = args.targets[run % len(args.targets):] + args.targets[:run % len(args.targets)]
            for name in order:
                url = running[name].url + S1_PATH
                if args.warmup > 0:
                    wrk.run(url, args.warmup, S1_CONNECTIONS, S1_THREADS)
                r = wrk.run(url, args.duration, S1_CONNECTIONS, S1_THREADS)
                samples[name].append(r)
                progress(f"S1 run {run + 1}/{args.runs} {name:8} {r.requests_per_s:10.0f} req/s  "
                         f"p50 {r.p50_ms:.2f} ms  p99 {r.p99_ms:.2f} ms"
                         + (f"  errors {r.non_2xx + r.socket_errors}"
                            if r.non_2xx + r.socket_errors else ""))
    finally:
        for server in running.values():
            server.stop()

    med = {n: statistics.median(r.requests_per_s for r in rs) for n, rs in samples.items()}
    vigil = med.get("vigil")
    flask = med.get("flask")
    rows, met = [], []
    for name in args.targets:
        rs = samples[name]
        errors = sum(r.non_2xx + r.socket_errors for r in rs)
        p99 = statistics.median(r.p99_ms for r in rs)
        if name == "vigil":
            vs, goal = None, f"p99 ≤ {S1_MAX_P99_MS:g} ms, no errors"
            ok = p99 <= S1_MAX_P99_MS and errors == 0
        else:
            vs = vigil / med[name] if vigil is not None else None
            goal = f"Vigil ≥ {S1_MIN_RATIO[name]:g}× {name}"
            ok = None if vs is None else vs >= S1_MIN_RATIO[name]
        if ok is not None:
            met.append(ok)
        rows.append([
            name, f"{med[name]:.0f}", " / ".join(f"{r.requests_per_s:.0f}" for r in rs),
            f"{statistics.median(r.p50_ms for r in rs):.2f}", f"{p99:.2f}", errors,
            ratio(med[name] / flask if flask else None), ratio(vs), goal, yes_no(ok)])
    notes = [f"`GET {S1_PATH}`, wrk {S1_THREADS} threads, {S1_CONNECTIONS} keep-alive "
             f"connections, {args.duration} s per run after {args.warmup} s of warm-up, "
             f"{args.runs} runs interleaved; medians over the runs.",
             "errors = non-2xx responses + socket errors, all runs (the Flask peer's gunicorn "
             "sync workers close every connection, which wrk may count as read errors)."]
    if vigil is None:
        notes.append("Vigil not measured in this run (peers only).")
    header = ["target", "req/s (median)", "req/s per run", "p50 ms", "p99 ms", "errors",
              "× Flask", "Vigil ÷ target", "goal", "met"]
    return Section("S1 · HTTP keep-alive throughput", notes, header, rows, met)


def s11(args):
    """Cold start: exec `vigil serve` on an empty data dir until /readyz first answers 200."""
    times = []
    for run in range(args.s11_runs):
        server = servers.vigil(args.vigil)  # a fresh, empty data dir each time
        try:
            t0 = server.start()
            t1 = server.wait_ready(timeout=10.0, interval=0.005)
        finally:
            server.stop()
        times.append((t1 - t0) * 1000.0)
        progress(f"S11 run {run + 1}/{args.s11_runs} {times[-1]:.1f} ms")
    median = statistics.median(times)
    ok = median <= S11_MAX_MS
    notes = [f"exec of `vigil serve --data-dir <empty temp dir>` to the first 200 from "
             f"`GET /readyz` (polled every 5 ms), {args.s11_runs} runs; median."]
    header = ["target", "ms (median)", "ms per run", "goal", "met"]
    rows = [["vigil", f"{median:.1f}", " / ".join(f"{t:.1f}" for t in times),
             f"≤ {S11_MAX_MS:g} ms", yes_no(ok)]]
    return Section("S11 · cold start to ready", notes, header, rows, [ok])


SCENARIOS = {"S1": s1, "S11": s11}
NEEDS_VIGIL = {"S11"}
