"""S4 of BENCHMARKS.md: telemetry ingest, 1 000 points per request, acknowledged only when durable;
points/s and bytes a point on disk.

`vigil serve` (embedded: SQLite) on a fresh data dir; `--s4-sensors` sensors; the load client
`vigil_fleet_load ingest` keeps `--s4-concurrency` requests in flight, each one sensor's next
`--s4-points` points (one a second, POST /api/v1/telemetry as [at, value] pairs), for `--warmup`
then `--duration` seconds. Two runs on fresh servers: values a random walk in steps of 0.01 (a
sensor's resolution, written as a device's JSON library writes them: 40.07), and full-precision
doubles (what no sensor measures, but averages look like: 38.59230769230769). After each run the
server stops (SQLite checkpoints its WAL into the file) and the bench reads the database: the
chunks' bytes and the whole file's, over the points stored.
"""
import json
import sqlite3
import subprocess
import sys

import servers
from fleet import fleet_load_binary
from report import Section, yes_no
from servers import BenchError

S4_MIN_RATE = 1_000_000
S4_MAX_BYTES = 4.0
VARIANTS = [("decimal readings (0.01 steps)", 0.01), ("full-precision doubles", 0.0)]


def progress(text):
    print(text, file=sys.stderr, flush=True)


def stored_bytes(db_file):
    """(points, chunk bytes, file bytes) of a stopped server's SQLite database."""
    with sqlite3.connect(db_file) as c:
        points, data = c.execute(
            "SELECT COALESCE(SUM(points), 0), COALESCE(SUM(LENGTH(data)), 0) FROM series_chunks"
        ).fetchone()
    return points, data, db_file.stat().st_size


def _run(args, resolution):
    data_dir = servers.fresh_dir("s4-data")
    server = servers.vigil(args.vigil, data_dir=data_dir, name="vigil-s4")
    server.start()
    try:
        server.wait_ready(timeout=30.0)
        token = servers.login(server)
        headers = {"Authorization": f"Bearer {token}"}
        for i in range(args.s4_sensors):
            status, body = servers.http_request(server.port, "POST", "/api/v1/sensors",
                                                body={"name": f"s4-{i}"}, headers=headers)
            if status != 201:
                raise BenchError(f"making sensor s4-{i} answered {status}: {body[:300]!r}")
        out = subprocess.run(
            [str(fleet_load_binary(args)), "ingest", "--url", server.url, "--token", token,
             "--prefix", "s4-", "--sensors", str(args.s4_sensors),
             "--concurrency", str(args.s4_concurrency), "--points", str(args.s4_points),
             "--resolution", str(resolution), "--warmup", str(args.warmup),
             "--measure", str(args.duration)],
            capture_output=True, text=True, timeout=args.warmup + args.duration + 120)
        if out.returncode != 0:
            raise BenchError(f"vigil_fleet_load ingest failed: {out.stderr[-1000:]}"
                             f"{out.stdout[-500:]}\n{server.log_tail()}")
        r = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        server.stop()
    points, data, file_bytes = stored_bytes(data_dir / "vigil.db")
    if points == 0:
        raise BenchError("S4: no point was stored")
    r.update(stored=points, data_bytes=data / points, file_bytes=file_bytes / points)
    return r


def s4(args):
    servers.require_vigil(args.vigil)
    rows, met = [], []
    for name, resolution in VARIANTS:
        r = _run(args, resolution)
        progress(f"S4 {name}: {r['rate']:,.0f} points/s, p99 {r['p99_ms']:.1f} ms, "
                 f"{r['data_bytes']:.2f} B/point in chunks, {r['file_bytes']:.2f} in the file, "
                 f"errors {r['errors']}")
        rate_ok = r["rate"] >= S4_MIN_RATE and r["errors"] == 0
        bytes_ok = r["file_bytes"] <= S4_MAX_BYTES
        met.append(rate_ok)
        if resolution > 0:
            met.append(bytes_ok)
        rows.append([name, f"{r['rate']:,.0f}", f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}",
                     r["errors"], f"{r['stored']:,}", f"{r['data_bytes']:.2f}",
                     f"{r['file_bytes']:.2f}", yes_no(rate_ok),
                     yes_no(bytes_ok) if resolution > 0 else "— (see notes)"])
    header = ["values", "points/s", "p50 ms", "p99 ms", "errors", "points stored",
              "B/point (chunks)", "B/point (file)", f"≥ {S4_MIN_RATE:,} points/s",
              f"≤ {S4_MAX_BYTES:g} B/point"]
    notes = [f"`vigil serve` embedded (SQLite), {args.s4_sensors} sensors, "
             f"{args.s4_concurrency} requests in flight of {args.s4_points} points each, "
             f"{args.warmup} s warm-up then {args.duration} s measured; a point counts once its "
             "request was answered 202 (durable).",
             "Bytes a point: the chunks' bytes, and the whole database file's (indexes, pages, "
             "everything), over the points stored, after the server stopped.",
             "Full-precision doubles carry ~52 bits of mantissa noise a value: no lossless "
             "coding brings them under ~6.5 bytes, so the size goal is judged on sensor "
             "readings."]
    return Section("S4 · telemetry ingest, durable", notes, header, rows, met)
