"""S9 of BENCHMARKS.md: asynchronous task round trips (submit → done → result read), Vigil with
its embedded queue and with RabbitMQ, against the seed's pattern on the same broker in the same
run: RabbitMQ RPC with python3-pika (bench/peers/pika_rpc.py: a durable request queue,
persistent requests with reply_to and a correlation id, two replicated pika workers predicting
with the same XGBoost model, prefetch 1, manual acks).

Each target gets the same load: `--s9-concurrency` round trips in flight, one row of the
breast-cancer model each, `--warmup` s then `--duration` s measured, `--s9-runs` runs with the
targets in rotation. Vigil's client is `vigil_fleet_load tasks` (POST /api/v1/tasks, then
GET /api/v1/tasks/{id}?wait=10, which answers when the task is done); the peer's clients are
pika processes (one per round trip in flight: a BlockingConnection serves one caller). Vigil runs
as `vigil serve` with its defaults (two worker threads; on RabbitMQ they take the tasks from the
broker), the peer with two worker processes: both use the machine's two cores.

The ceiling, `http-ceiling`, is the same client on the same server making the same two
authenticated requests per round trip without a task (`vigil_fleet_load tasks --ceiling`: two
GET /api/v1/auth/me): what the HTTP work alone allows on this machine in this run.
"""
import json
import os
import statistics
import subprocess
import sys

import rabbit
import servers
from fleet import fleet_load_binary
from report import Section, ratio, yes_no
from servers import BenchError

PIKA = "pika-rpc"
CEILING = "http-ceiling"
TARGETS = ["vigil-embedded", "vigil-rabbitmq", PIKA, CEILING]
S9_MIN_RATIO = 20.0
PIKA_WORKERS = 2
PIKA_QUEUE = "rpc_queue"


def progress(text):
    print(text, file=sys.stderr, flush=True)


def _row_body():
    expected = json.loads(servers.MODEL_EXPECTED.read_text())
    row = dict(zip(expected["features"], expected["rows"][0]))
    return expected["features"], {"model": servers.MODEL_NAME, "rows": [row]}


def _vigil(args, name, broker, body, features):
    env = {"VIGIL_QUEUE__URL": broker.url, "VIGIL_QUEUE__NAME": f"s9.{name}"} \
        if name == "vigil-rabbitmq" else {}
    server = servers.vigil(args.vigil, name=name, env=env)
    server.start()
    try:
        server.wait_ready(timeout=30.0)
        token = servers.login(server)
        servers.upload_model(server, token, metadata={"features": features})
        out = subprocess.run(
            [str(fleet_load_binary(args)), "tasks", "--url", server.url, "--token", token,
             "--body", json.dumps(body), "--concurrency", str(args.s9_concurrency),
             "--warmup", str(args.warmup), "--measure", str(args.duration)]
            + (["--ceiling"] if name == CEILING else []),
            capture_output=True, text=True, timeout=args.warmup + args.duration + 60)
        if out.returncode != 0:
            raise BenchError(f"{name}: vigil_fleet_load tasks failed: {out.stderr[-1000:]}"
                             f"{out.stdout[-500:]}\n{server.log_tail()}")
        r = json.loads(out.stdout.strip().splitlines()[-1])
        return {"rate": r["rate"], "p50": r["p50_ms"], "p99": r["p99_ms"], "errors": r["errors"],
                "first_error": r["first_error"]}
    finally:
        server.stop()


def _pika(args, broker, body):
    env = dict(os.environ, PYTHONPATH=str(servers.PEERS),
               BENCH_PEER_MODEL=str(servers.MODEL_FILE),
               BENCH_PEER_FEATURES=str(servers.MODEL_EXPECTED))
    script = str(servers.PEERS / "pika_rpc.py")
    log = open(servers.workdir() / "pika-workers.log", "ab")
    workers = [servers.spawn(["/usr/bin/python3", script, "worker", broker.url, PIKA_QUEUE],
                             env=env, stdout=log, stderr=log) for _ in range(PIKA_WORKERS)]
    try:
        clients = [servers.spawn(["/usr/bin/python3", script, "client", broker.url, PIKA_QUEUE,
                                  json.dumps(body), str(args.warmup), str(args.duration)],
                                 env=env, stdout=subprocess.PIPE, stderr=log)
                   for _ in range(args.s9_concurrency)]
        latencies, errors = [], 0
        for c in clients:
            out, _ = c.communicate(timeout=args.warmup + args.duration + 60)
            if c.returncode != 0 or not out.strip():
                raise BenchError(f"a pika client failed (exit {c.returncode}):\n"
                                 f"{servers.log_tail(servers.workdir() / 'pika-workers.log')}")
            r = json.loads(out.strip().splitlines()[-1])
            latencies += r["latencies_ms"]
            errors += r["errors"]
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            try:
                w.wait(timeout=10)
            except subprocess.TimeoutExpired:
                w.kill()
        log.close()
    latencies.sort()
    pct = (lambda p: latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))]
           if latencies else 0.0)
    return {"rate": len(latencies) / args.duration, "p50": pct(50), "p99": pct(99),
            "errors": errors, "first_error": ""}


def s9(args):
    servers.require_vigil(args.vigil)
    features, body = _row_body()
    broker = rabbit.Broker()
    progress("S9: starting RabbitMQ")
    broker.start()
    results = {t: [] for t in TARGETS}
    try:
        for run in range(args.s9_runs):
            order = TARGETS[run % len(TARGETS):] + TARGETS[:run % len(TARGETS)]
            for t in order:
                r = _pika(args, broker, body) if t == PIKA else \
                    _vigil(args, t, broker, body, features)
                progress(f"S9 run {run + 1}/{args.s9_runs} {t}: {r['rate']:.0f} tasks/s, "
                         f"p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms, errors {r['errors']}"
                         + (f" ({r['first_error']})" if r["first_error"] else ""))
                results[t].append(r)
    finally:
        broker.stop()

    def median(t, key):
        return statistics.median(r[key] for r in results[t])

    peer = median(PIKA, "rate")
    header = ["target", "tasks/s (median)", "tasks/s per run", "p50 ms", "p99 ms", "errors",
              "÷ pika-rpc", "goal", "met"]
    rows, met = [], []
    for t in TARGETS:
        rate = median(t, "rate")
        x = rate / peer if peer else None
        ok = None if t in (PIKA, CEILING) else (x is not None and x >= S9_MIN_RATIO)
        if ok is not None:
            met.append(ok)
        rows.append([t, f"{rate:.0f}", " / ".join(f"{r['rate']:.0f}" for r in results[t]),
                     f"{median(t, 'p50'):.2f}", f"{median(t, 'p99'):.2f}",
                     sum(r["errors"] for r in results[t]), ratio(x),
                     "—" if t in (PIKA, CEILING) else f"≥ {S9_MIN_RATIO:g}×", yes_no(ok)])
    notes = [f"Round trips of one breast-cancer row (submit → done → result read), "
             f"{args.s9_concurrency} in flight, {args.warmup} s warm-up then {args.duration} s "
             f"measured, {args.s9_runs} runs in rotation; medians. One RabbitMQ "
             f"(Debian's rabbitmq-server, loopback) for vigil-rabbitmq and pika-rpc.",
             "vigil-*: `vigil serve` defaults (2 task workers), client `vigil_fleet_load tasks` "
             "(POST /api/v1/tasks, GET /api/v1/tasks/{id}?wait=10). pika-rpc: the seed's RPC "
             f"pattern (bench/peers/pika_rpc.py), {PIKA_WORKERS} pika workers, one pika client "
             "process per round trip in flight.",
             f"{CEILING}: `vigil serve` embedded, the same client with `--ceiling`: two GET "
             "/api/v1/auth/me per round trip, no task — the HTTP work of a round trip alone, the "
             "most any design with a submit and a read can reach here."]
    return Section("S9 · asynchronous task round trips", notes, header, rows, met)
