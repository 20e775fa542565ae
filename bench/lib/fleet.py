"""S7 and S8: the device WebSocket fleet (BENCHMARKS.md), driven by the project's own load client
bench/fleet_load (built as vigil_fleet_load beside the vigil binary).

Both start a fresh Vigil, log in as the admin and make their devices and watchdogs through the
API with `vigil_fleet_load seed` (the setup, timed apart from the scenario), then:
- S7 holds N sessions (`vigil_fleet_load hold`), reads the server's VmRSS before connecting and
  while they are held, and has every session ping once over one ping interval (the protocol's
  20 s), for the round trips' p50/p99;
- S8 holds N agents (`vigil_fleet_load agents`), starts a rollout of a ~100 KiB model to all of
  them at once (POST /api/v1/rollouts, canary 0, one batch, confirm_s 0), and times the POST to
  the last `confirmed` (the agents' clock) and to the rollout's `completed` (the server's).
"""
import datetime
import json
import os
import resource
import select
import statistics
import subprocess
import sys
import time
from pathlib import Path

import infer
import servers
from report import Section, yes_no
from servers import BenchError

S7_DEFAULT_SESSIONS = 100_000
S8_DEFAULT_AGENTS = 10_000
# BENCHMARKS.md's S7 and S8 rows.
S7_MIN_SESSIONS = 100_000
S7_MAX_KIB_PER_SESSION = 10.0
S7_MAX_P99_MS = 50.0
S8_MAX_SECONDS = 2.0
# The model S8 rolls out: a real XGBoost model of 108.8 KiB (the spec says 100 KiB), uploaded
# once per run as versions 1, 2, … of S8_MODEL so each rollout is to a version the agents do not
# run yet.
S8_MODEL = "s8-model"
S8_MODEL_FILE = servers.MODEL_FILE
# Connections the harness itself and the load client's artifact downloads need beside the
# sessions, on the server and in the client.
FD_RESERVE = 64
SEED_CONNECTIONS = 16
S8_DOWNLOAD_CONNECTIONS = 32
# Sessions per loopback source address (127.0.0.2, 127.0.0.3, …): one address has ~28 000
# ephemeral ports towards the server, and the kernel's search for a free one slows down as they
# fill (20 000 per address cost the client 13 s of system time to connect 20 000 sessions; 1 000
# per address, 2 s).
PER_SOURCE = 1000
# Sessions between connect and welcome at once: under the server's blocking queue (256), which
# an upgrade whose token is not cached yet waits in.
CONNECT_CONCURRENCY = 128
# The protocol's ping interval: the server closes a session silent for 60 s.
PING_INTERVAL_S = 20.0


def progress(text):
    print(text, file=sys.stderr, flush=True)


# ---- pure helpers (fleet_test.py) -------------------------------------------------------------

def num(n):
    """An integer with thin groups: 100000 → '100 000'."""
    return f"{int(n):,}".replace(",", " ")


def proc_status_kib(text, field):
    """A `Name:   1234 kB` field of /proc/<pid>/status, in KiB; None when absent."""
    for line in text.splitlines():
        if line.startswith(field + ":"):
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                return int(parts[1])
    return None


def proc_cpu_seconds(stat_text, ticks_per_s):
    """utime + stime of a /proc/<pid>/stat line, in seconds. The command name (field 2) may hold
    spaces and parentheses: the fields are counted after its last ')'."""
    rest = stat_text[stat_text.rindex(")") + 2:].split()
    # rest[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (int(rest[11]) + int(rest[12])) / ticks_per_s


def thread_name(stat_text):
    """The command name of a /proc/<pid>/task/<tid>/stat line (a thread's name)."""
    return stat_text[stat_text.index("(") + 1:stat_text.rindex(")")]


def cpu_delta(before, after, min_s=0.01):
    """{name: seconds} spent between two {name: cpu seconds} readings, largest first, without the
    ones under min_s."""
    out = {k: v - before.get(k, 0.0) for k, v in after.items()}
    return dict(sorted(((k, v) for k, v in out.items() if v >= min_s), key=lambda kv: -kv[1]))


def describe_cpu(by_thread):
    """{name: seconds} as 'name 1.23 s, …'."""
    return ", ".join(f"{k} {v:.2f} s" for k, v in by_thread.items()) or "none"


def feasible_sessions(requested, server_max, client_fds, reserve=FD_RESERVE):
    """(how many sessions this machine can hold at once, why fewer than requested or None).
    server_max: the server's effective max connections (vigil_http_connections_max), lowered by
    the server to fit its descriptor limit; client_fds: the load client's RLIMIT_NOFILE."""
    limits = []
    if server_max is not None:
        limits.append((int(server_max) - reserve, f"the server accepts {int(server_max)} "
                                                  f"connections (vigil_http_connections_max)"))
    if client_fds is not None:
        limits.append((int(client_fds) - reserve, f"the load client has {int(client_fds)} "
                                                  f"descriptors (RLIMIT_NOFILE)"))
    n, why = requested, None
    for cap, text in limits:
        if cap < n:
            n, why = max(cap, 0), text
    return n, why


def rollout_body(label, model, version, agents):
    """POST /api/v1/rollouts for S8: every device labelled bench=<label> at once (no canary, one
    batch of all of them, no rate limit), confirmed as soon as applied."""
    return {"select": {"labels": {"bench": label}}, "action": "update",
            "target": {"model": model, "version": version},
            "canary_percent": 0, "batch_size": max(1, agents), "rate_per_minute": 0,
            "confirm_s": 0, "device_timeout_s": 600}


def parse_time(text):
    """An RFC 3339 UTC time as Vigil writes it (2026-12-06T03:04:18.630Z) → epoch seconds."""
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def completed_at(rollout):
    """Epoch seconds of a rollout's move to `completed` in its history, or None."""
    for h in rollout.get("history") or []:
        if h.get("to") == "completed":
            return parse_time(h["at"])
    return None


def kib_per_session(rss_before_kib, rss_held_kib, held):
    if not held or rss_before_kib is None or rss_held_kib is None:
        return None
    return (rss_held_kib - rss_before_kib) / held


def s7_goals(held, kib, p99_ms, lost):
    """[(measure, value text, goal text, met)] for S7."""
    return [("sessions held", num(held), f"≥ {num(S7_MIN_SESSIONS)}", held >= S7_MIN_SESSIONS),
            ("server RSS per session", "—" if kib is None else f"{kib:.2f} KiB",
             f"≤ {S7_MAX_KIB_PER_SESSION:g} KiB",
             kib is not None and kib <= S7_MAX_KIB_PER_SESSION),
            ("ping p99 while held", "—" if p99_ms is None else f"{p99_ms:.2f} ms",
             f"≤ {S7_MAX_P99_MS:g} ms, no pong lost",
             p99_ms is not None and p99_ms <= S7_MAX_P99_MS and lost == 0)]


def s8_goal(seconds, agents, all_confirmed):
    """(goal text, met) for S8: the median time to `completed`, every agent confirmed."""
    ok = seconds is not None and seconds <= S8_MAX_SECONDS and all_confirmed and agents > 0
    return f"≤ {S8_MAX_SECONDS:g} s, every agent confirmed", ok


def describe_errors(stats):
    """The load client's connect problems as words, or 'none'."""
    parts = []
    for key, text in (("connect_errors", "TCP connects failed"),
                      ("protocol_errors", "bad upgrade answers"),
                      ("gave_up", "sessions given up"),
                      ("closed_while_held", "held sessions closed by the server"),
                      ("error_frames", "error frames")):
        if stats.get(key):
            parts.append(f"{stats[key]} {text}")
    for status, count in sorted((stats.get("refused") or {}).items()):
        parts.append(f"{count} upgrades answered {status}")
    if stats.get("first_close"):
        parts.append(f"first close: {stats['first_close']!r}")
    if stats.get("first_error"):
        parts.append(f"first error: {stats['first_error']!r}")
    return "; ".join(parts) or "none"


# ---- processes ---------------------------------------------------------------------------------

def fleet_load_binary(args):
    """--fleet-load, else vigil_fleet_load in the build dir of --vigil."""
    return servers.built_binary(args.fleet_load, args.vigil,
                                "bench/fleet_load/vigil_fleet_load", "vigil_fleet_load",
                                "--fleet-load")


def raise_fd_limit():
    """Raises this process's RLIMIT_NOFILE soft limit to the hard one (the servers and the load
    client inherit it); returns the limit now in force. Raising the hard limit needs
    CAP_SYS_RESOURCE, which the harness does not ask for."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def kernel_settings():
    """What limits this machine's loopback fleets, as words for the notes."""
    def read(path):
        try:
            return Path(path).read_text().split()
        except OSError:
            return None
    parts = []
    ports = read("/proc/sys/net/ipv4/ip_local_port_range")
    if ports and len(ports) == 2:
        parts.append(f"net.ipv4.ip_local_port_range {ports[0]}–{ports[1]} "
                     f"({int(ports[1]) - int(ports[0]) + 1} ports per source address)")
    somaxconn = read("/proc/sys/net/core/somaxconn")
    if somaxconn:
        parts.append(f"net.core.somaxconn {somaxconn[0]}")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    parts.append(f"RLIMIT_NOFILE {soft} (hard {hard})")
    return ", ".join(parts)


def server_rss_kib(server):
    try:
        return proc_status_kib(Path(f"/proc/{server.proc.pid}/status").read_text(), "VmRSS")
    except OSError:
        return None


def cpu_seconds(pid):
    try:
        return proc_cpu_seconds(Path(f"/proc/{pid}/stat").read_text(),
                                os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None


def thread_cpu(pid):
    """{thread name: user + system seconds} of a process, threads of one name added up (Vigil
    names its threads: vigil-io-N, vigil-fleet, vigil-rollouts, vigil-audit; the blocking pool
    and the main thread are "vigil")."""
    out, ticks = {}, os.sysconf("SC_CLK_TCK")
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return out
    for task in tasks:
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue
        name = thread_name(stat)
        out[name] = out.get(name, 0.0) + proc_cpu_seconds(stat, ticks)
    return out


def metric(server, name):
    status, body = servers.http_request(server.port, "GET", "/metrics")
    return infer.metric_total(body.decode(errors="replace"), name) if status == 200 else None


class LoadClient:
    """vigil_fleet_load in its own process group, JSON lines read from its stdout."""

    def __init__(self, argv, name):
        self.name = name
        self.log_path = servers.workdir() / f"{name}.log"
        log = open(self.log_path, "ab")
        try:
            self.proc = servers.spawn([str(a) for a in argv], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=log)
        finally:
            log.close()
        self._buffer = b""

    def event(self, want, timeout):
        """The next JSON line whose "event" is `want` (others are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                try:
                    doc = json.loads(line)
                except ValueError:
                    continue
                if doc.get("event") == want:
                    return doc
            left = deadline - time.monotonic()
            if left <= 0:
                raise BenchError(f"{self.name}: no {want!r} after {timeout:.0f} s:\n"
                                 f"{self.log_tail()}")
            ready, _, _ = select.select([self.proc.stdout], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    raise BenchError(f"{self.name} exited ({self.proc.wait()}) before {want!r}:\n"
                                     f"{self.log_tail()}")
                self._buffer += chunk

    def send(self, line):
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def finish(self, timeout=30.0):
        """Closes its stdin (it closes its sessions and exits); kills it when it does not."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()

    def log_tail(self, lines=15):
        return servers.log_tail(self.log_path, lines)


def _max_connections(sessions):
    """server.max_connections for the bench server: its default (100 000), or more."""
    return max(100_000, sessions + 4 * FD_RESERVE)


def _start_vigil(args, name, sessions):
    """A fresh Vigil allowed `sessions` connections and more (server.max_connections; it lowers
    that to its descriptor limit itself), logged in as the admin."""
    env = {"VIGIL_SERVER__MAX_CONNECTIONS": str(_max_connections(sessions))}
    server = servers.vigil(args.vigil, name=name, env=env)
    server.start()
    server.wait_ready()
    server.token = servers.login(server)
    if server.token is None:
        server.stop()
        raise BenchError(f"{name}: POST /api/v1/auth/login answered 404: {args.vigil} has no auth")
    return server


def _plan_sessions(scenario, requested, server, client_fds):
    """How many sessions to hold, and a note when fewer than requested."""
    server_max = metric(server, "vigil_http_connections_max")
    n, why = feasible_sessions(requested, server_max, client_fds)
    if n <= 0:
        raise BenchError(f"{scenario}: no room for sessions: {why}")
    if n < requested:
        progress(f"bench: !!! {scenario}: {requested} requested, this machine holds at most {n}: "
                 f"{why}")
        return n, (f"**{num(requested)} requested; this machine allows {num(n)}: {why}, from "
                   f"the RLIMIT_NOFILE hard limit, which only CAP_SYS_RESOURCE can raise.**")
    return n, None


def _seed(args, server, count, prefix):
    """Devices <prefix>-<i> with enrolled watchdogs through the API; (tokens file, seed JSON)."""
    tokens = servers.workdir() / f"{prefix}-tokens.tsv"
    client = LoadClient([fleet_load_binary(args), "seed", "--url", server.url, "--token",
                         server.token, "--count", count, "--prefix", prefix,
                         "--connections", SEED_CONNECTIONS, "--out", tokens], f"{prefix}-seed")
    try:
        seeded = client.event("seeded", timeout=60 + count / 100)
    finally:
        client.finish()
    if seeded["seeded"] != count:
        raise BenchError(f"seeding {count} devices made {seeded['seeded']} "
                         f"({seeded['errors']} errors, first: {seeded['first_error']})")
    progress(f"bench: {prefix}: {count} devices with watchdogs in {seeded['seconds']:.1f} s "
             f"({seeded['requests_per_s']:.0f} requests/s)")
    return tokens, seeded


def _session_argv(args, command, server, tokens):
    """vigil_fleet_load hold|agents with the options S7 and S8 share."""
    return [fleet_load_binary(args), command, "--url", server.url, "--tokens", tokens,
            "--per-source", PER_SOURCE, "--connect-concurrency", CONNECT_CONCURRENCY,
            "--wait-stdin"]


def _setup_note(count, seeded):
    return (f"Setup, not measured: {num(count)} devices, each with an enrollment code and an "
            f"enrolled watchdog, made through the API (`POST /api/v1/devices`, `POST "
            f"/api/v1/devices/{{name}}/enrollments`, `POST /api/v1/enroll`: 3 requests each, "
            f"{SEED_CONNECTIONS} kept-alive connections at once) by `vigil_fleet_load seed` in "
            f"{seeded['seconds']:.1f} s ({num(seeded['requests_per_s'])} requests/s).")


# ---- S7 ----------------------------------------------------------------------------------------

def s7(args):
    """Sessions held, server RSS per session, ping round trips while held."""
    client_fds = raise_fd_limit()
    ping_interval = min(args.s7_measure, PING_INTERVAL_S)
    server = _start_vigil(args, "vigil-s7", args.s7_sessions)
    client, m = None, {"ping_interval": ping_interval}
    try:
        n, m["capped"] = _plan_sessions("S7", args.s7_sessions, server, client_fds)
        tokens, m["seeded"] = _seed(args, server, n, "s7")
        pid = server.proc.pid
        m["rss_before"] = server_rss_kib(server)
        cpu0, threads0 = cpu_seconds(pid), thread_cpu(pid)
        client = LoadClient(_session_argv(args, "hold", server, tokens) + [
            "--measure", args.s7_measure, "--ping-interval", ping_interval], "s7-hold")
        m["held"] = held = client.event("held", timeout=120 + n / 100)
        cpu1 = cpu_seconds(pid)
        m["connect_cpu"], m["connect_threads"] = cpu1 - cpu0, cpu_delta(threads0, thread_cpu(pid))
        progress(f"bench: S7: {held['held']} of {n} sessions held after {held['connect_s']:.1f} s "
                 f"(errors: {describe_errors(held)})")
        time.sleep(2.0)  # let the connect burst's garbage (token cache, buffers) settle
        m["rss_held"] = [server_rss_kib(server)]
        m["sessions_gauge"] = metric(server, "vigil_fleet_sessions")
        client.send("measure")
        m["result"] = client.event("result", timeout=args.s7_measure + 60)
        m["rss_held"].append(server_rss_kib(server))
        m["ping_cpu"] = cpu_seconds(pid) - cpu1
        m["client_rss"] = proc_status_kib(Path(f"/proc/{client.proc.pid}/status").read_text(),
                                          "VmRSS")
        m["hwm"] = proc_status_kib(Path(f"/proc/{pid}/status").read_text(), "VmHWM")
    finally:
        if client is not None:
            client.finish()
        server.stop()
    return _s7_section(args, n, m)


def _s7_section(args, n, m):
    held, result = m["held"], m["result"]
    rss = [r for r in m["rss_held"] if r is not None]
    kib = kib_per_session(m["rss_before"], max(rss) if rss else None, result["held"])
    p99 = result["p99_ms"] if result["pongs"] else None
    progress(f"bench: S7: {result['held']} held, {kib and round(kib, 2)} KiB per session, ping "
             f"p50 {result['p50_ms']:.2f} ms p99 {result['p99_ms']:.2f} ms over "
             f"{result['pongs']} pongs")
    goals = s7_goals(result["held"], kib, p99, result["lost"])
    rows = [[measure, value, goal, yes_no(ok)] for measure, value, goal, ok in goals]
    mib = (lambda k: "—" if k is None else f"{k / 1024:.1f} MiB")
    gauge = m["sessions_gauge"]
    notes = [m["capped"]] if m["capped"] else []
    notes += [
        _setup_note(n, m["seeded"]),
        f"`vigil_fleet_load hold`: one thread, {num(n)} device sessions (`GET /api/v1/ws/device`, "
        f"the watchdog's Bearer token, `hello`, wait for `welcome`), at most "
        f"{CONNECT_CONCURRENCY} between connect and welcome, {num(PER_SOURCE)} per loopback "
        f"source address from 127.0.0.2 (bound with IP_BIND_ADDRESS_NO_PORT); {num(held['held'])} held after {held['connect_s']:.1f} s "
        f"(server CPU {m['connect_cpu']:.1f} s: {describe_cpu(m['connect_threads'])}); connect "
        f"problems: {describe_errors(held)}. The server reported "
        f"{'?' if gauge is None else num(gauge)} sessions (`vigil_fleet_sessions`).",
        f"Server RSS (VmRSS): {mib(m['rss_before'])} before connecting, {mib(m['rss_held'][0])} "
        f"2 s after the last welcome, {mib(m['rss_held'][1])} after the pings (peak VmHWM "
        f"{mib(m['hwm'])}); per session = (the larger held value − before) ÷ sessions held. The "
        f"load client's own RSS: {mib(m['client_rss'])}.",
        f"Pings: every held session sends `ping` once per {m['ping_interval']:g} s, spread evenly "
        f"over the sessions (the protocol asks for one per {PING_INTERVAL_S:g} s); over "
        f"{args.s7_measure:g} s measured: {num(result['pings'])} pings, "
        f"{num(result['pongs'])} pongs, {result['lost']} lost; round trip p50 "
        f"{result['p50_ms']:.2f} ms, p90 {result['p90_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms, "
        f"max {result['max_ms']:.2f} ms; server CPU {m['ping_cpu']:.1f} s from the last welcome "
        f"to the last pong.",
        f"Machine: {kernel_settings()}; server env "
        f"`VIGIL_SERVER__MAX_CONNECTIONS={_max_connections(args.s7_sessions)}`, everything else "
        f"default.",
    ]
    return Section("S7 · WebSocket fleet: sessions held", notes,
                   ["measure", "value", "goal", "met"], rows, [g[3] for g in goals])


# ---- S8 ----------------------------------------------------------------------------------------

def _post_rollout(server, body):
    """POSTs the rollout; (its id, epoch seconds and monotonic seconds just before the POST, the
    seconds its answer took)."""
    wall0, mono0 = time.time(), time.monotonic()
    status, answer = servers.http_request(server.port, "POST", "/api/v1/rollouts", body=body,
                                          headers={"Authorization": f"Bearer {server.token}"},
                                          timeout=60.0)
    if status != 201:
        raise BenchError(f"S8: POST /api/v1/rollouts answered {status}: "
                         f"{answer.decode(errors='replace')[:500]}")
    return json.loads(answer)["id"], wall0, mono0, time.monotonic() - mono0


def _wait_rollout(server, rid, timeout):
    """GET /api/v1/rollouts/{id} every 20 ms until it is no longer running (or the timeout); the
    last answer. Called once the agents are done, so the polls do not load the server while it
    works."""
    deadline = time.monotonic() + timeout
    while True:
        status, answer = servers.http_request(server.port, "GET", f"/api/v1/rollouts/{rid}",
                                              headers={"Authorization": f"Bearer {server.token}"},
                                              timeout=60.0)
        rollout = json.loads(answer) if status == 200 else {}
        if rollout.get("state") not in (None, "running") or time.monotonic() > deadline:
            return rollout
        time.sleep(0.02)


def s8(args):
    """A rollout to N connected agents, each downloading and checking the model."""
    client_fds = raise_fd_limit()
    server = _start_vigil(args, "vigil-s8", args.s8_agents + S8_DOWNLOAD_CONNECTIONS)
    client, runs = None, []
    try:
        n, capped = _plan_sessions("S8", args.s8_agents, server,
                                   client_fds - S8_DOWNLOAD_CONNECTIONS)
        tokens, seeded = _seed(args, server, n, "s8")
        versions = [servers.upload_model(server, server.token, S8_MODEL_FILE, S8_MODEL)
                    for _ in range(args.s8_runs)]
        client = LoadClient(_session_argv(args, "agents", server, tokens) + [
            "--rollouts", args.s8_runs, "--download-connections", S8_DOWNLOAD_CONNECTIONS,
            "--rollout-timeout", args.s8_timeout], "s8-agents")
        ready = client.event("ready", timeout=120 + n / 100)
        progress(f"bench: S8: {ready['held']} of {n} agents connected after "
                 f"{ready['connect_s']:.1f} s (errors: {describe_errors(ready)})")
        for run, version in enumerate(versions, 1):
            runs.append(_s8_run(args, server, client, version["version"], ready["held"], n))
            r = runs[-1]
            progress(f"bench: S8 run {run}/{args.s8_runs}: {r['state']}, "
                     f"{r['confirmed_server']} confirmed; POST → last confirmed "
                     f"{_secs(r['last_confirmed_s'])}, → completed {_secs(r['completed_s'])}")
            if r["result"].get("timed_out"):
                break
    finally:
        if client is not None:
            client.finish()
        server.stop()
    return _s8_section(args, n, capped, seeded, ready, runs)


def _s8_run(args, server, client, version, agents, n):
    """One rollout to `version`: POST, the agents' result, the rollout once it is over."""
    pid = server.proc.pid
    cpu_server, cpu_client, threads0 = cpu_seconds(pid), cpu_seconds(client.proc.pid), \
        thread_cpu(pid)
    steps0 = _steps(server)
    rid, wall0, mono0, post_s = _post_rollout(server, rollout_body("s8", S8_MODEL, version, n))
    result = client.event("result", timeout=args.s8_timeout + 30)
    rollout = _wait_rollout(server, rid, 30.0)
    done = completed_at(rollout)
    since_post = (lambda t: t - mono0 if t else None)
    return {"agents": agents, "state": rollout.get("state"), "post_s": post_s,
            "confirmed_server": (rollout.get("counts") or {}).get("confirmed", 0),
            "first_command_s": since_post(result["first_command"]),
            "last_confirmed_s": since_post(result["last_confirmed"]),
            "completed_s": done - wall0 if done else None,
            "server_cpu_s": cpu_seconds(pid) - cpu_server,
            "server_threads": cpu_delta(threads0, thread_cpu(pid)),
            "client_cpu_s": cpu_seconds(client.proc.pid) - cpu_client,
            "steps": _delta(steps0, _steps(server)),
            "result": result}


def _steps(server):
    """(count, seconds) of the server's rollout steps so far (None when it does not say)."""
    count = metric(server, "vigil_fleet_rollout_step_seconds_count")
    total = metric(server, "vigil_fleet_rollout_step_seconds_sum")
    return None if count is None or total is None else (count, total)


def _delta(before, after):
    if before is None or after is None:
        return None
    return (after[0] - before[0], after[1] - before[1])


def describe_steps(steps):
    """"78 steps, 1.42 s (18.2 ms each)", or "—" when the server does not count them."""
    if not steps or not steps[0]:
        return "—"
    count, total = steps
    return f"{count:.0f} steps, {total:.2f} s ({1000 * total / count:.1f} ms each)"


def _secs(x):
    return "—" if x is None else f"{x:.2f} s"


def _s8_section(args, n, capped, seeded, ready, runs):
    rows = []
    for i, r in enumerate(runs, 1):
        res = r["result"]
        rows.append([i, r["agents"], r["state"], r["confirmed_server"], _secs(r["post_s"]),
                     _secs(r["first_command_s"]), _secs(r["last_confirmed_s"]),
                     _secs(r["completed_s"]),
                     f"{res['downloads']} ({res['download_bytes'] / 2**20:.0f} MiB)",
                     res["download_retries"], res["failed"],
                     f"{r['server_cpu_s']:.2f} s", f"{r['client_cpu_s']:.2f} s", "", ""])
    completed = [r["completed_s"] for r in runs]
    all_ok = bool(runs) and all(r["state"] == "completed" and r["confirmed_server"] == r["agents"]
                                == n and r["completed_s"] is not None for r in runs)
    median = statistics.median(completed) if all_ok else None
    goal, ok = s8_goal(median, n, all_ok)
    confirmed = [r["last_confirmed_s"] for r in runs if r["last_confirmed_s"] is not None]
    rows.append(["median", "", "", "", "", "",
                 _secs(statistics.median(confirmed) if confirmed else None),
                 _secs(median), "", "", "", "", "", goal, yes_no(ok)])
    notes = []
    if capped:
        notes.append(capped)
    size_kib = S8_MODEL_FILE.stat().st_size / 1024
    notes += [
        _setup_note(n, seeded),
        f"`vigil_fleet_load agents`: one thread, {num(n)} agents (sessions as in S7, `hello` with "
        f"no model), {num(ready['held'])} connected after {ready['connect_s']:.1f} s. On its "
        f"`command` each reports `downloading`, GETs the artifact url with its own token over one "
        f"of {S8_DOWNLOAD_CONNECTIONS} kept-alive connections the agents share (the body hashed as "
        f"it arrives, never held), checks the sha256 and the Ed25519 signature against the key "
        f"from its enrollment answer (`verify_model_signature`, the agents' check), reports "
        f"`applied`, then `confirmed` (confirm_s 0).",
        f"Each run: `POST /api/v1/rollouts` "
        f"`{json.dumps(rollout_body('s8', S8_MODEL, 1, n))}` (the target version +1 each run; "
        f"`{S8_MODEL}` is tests/data/models/breast_cancer.ubj, {size_kib:.1f} KiB, uploaded "
        f"{args.s8_runs}× as versions 1…{args.s8_runs}); once the agents are done, `GET "
        f"/api/v1/rollouts/{{id}}` every 20 ms until it is no longer running. Times from just "
        f"before the POST: its answer, the first command and the last `confirmed` sent (the "
        f"agents' clock, CLOCK_MONOTONIC), and `completed` (the time in the rollout's history: "
        f"the server has stored every confirmation). The goal is read on `completed`.",
        "download retries = artifact answers 503/429 fetched again after Retry-After; CPU = "
        "user + system seconds of each process from the POST to `completed` (2 shared cores). "
        "Server CPU by thread: " + "; ".join(f"run {i}: {describe_cpu(r['server_threads'])}"
                                             for i, r in enumerate(runs, 1)) + ".",
        "Rollout steps (`vigil_fleet_rollout_step_seconds`: each reads every device of the "
        "rollout and writes the planner's decision): " + "; ".join(
            f"run {i}: {describe_steps(r.get('steps'))}" for i, r in enumerate(runs, 1)) + ".",
        f"Machine: {kernel_settings()}.",
    ]
    header = ["run", "agents", "state", "confirmed (server)", "POST answered",
              "POST → first command", "POST → last confirmed (agents)",
              "POST → completed (server)", "downloads", "download retries", "failed", "server CPU",
              "client CPU", "goal", "met"]
    return Section("S8 · rollout to connected agents", notes, header, rows, [ok])
