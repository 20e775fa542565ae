"""Runs wrk and reads its text report (wrk 4.1, `--latency`)."""
import re
import shutil
import subprocess
from dataclasses import dataclass

from servers import BenchError, spawn

_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


@dataclass
class WrkResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int       # "Non-2xx or 3xx responses" (0 when wrk prints no such line)
    socket_errors: int  # connect + read + write + timeout


def to_ms(text):
    """'480.00us' / '1.01ms' / '2.00s' / '1.50m' -> milliseconds."""
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not m:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(m.group(1)) * _UNIT_MS[m.group(2)]


def parse(output):
    def find(pattern):
        m = re.search(pattern, output, re.MULTILINE)
        if not m:
            raise ValueError(f"wrk output has no match for {pattern!r}:\n{output}")
        return m

    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkResult(
        requests_per_s=float(find(r"^Requests/sec:\s+([\d.]+)").group(1)),
        p50_ms=to_ms(find(r"^\s+50%\s+(\S+)").group(1)),
        p99_ms=to_ms(find(r"^\s+99%\s+(\S+)").group(1)),
        requests=int(find(r"^\s+(\d+) requests in").group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(map(int, errors.groups())) if errors else 0,
    )


def run(url, duration_s, connections=32, threads=2, headers=(), script=None):
    """One wrk run; script: a Lua file (`-s`), e.g. to set the method and body of a POST."""
    exe = shutil.which("wrk")
    if not exe:
        raise BenchError("wrk not found: scripts/install-deps --bench")
    argv = [exe, f"-t{threads}", f"-c{connections}", f"-d{duration_s}s", "--latency"]
    for h in headers:
        argv += ["-H", h]
    if script is not None:
        argv += ["-s", str(script)]
    proc = spawn(argv + [url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=duration_s + 30)
    finally:
        if proc.poll() is None:  # interrupted or timed out
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise BenchError(f"wrk failed ({proc.returncode}) on {url}:\n{err}{out}")
    return parse(out)
