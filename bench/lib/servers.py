"""Servers under test: Vigil and its peers, each on 127.0.0.1, a free port and a temp dir.

A Server is started in its own process group (so gunicorn's workers and nginx's worker go
with it) and stopped with SIGTERM, then SIGKILL. Every process group is also written to
$BENCH_WORKDIR/pgids so that bench/run can kill what is left if this process dies hard.
"""
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PEERS = REPO / "bench" / "peers"
DEFAULT_VIGIL = REPO / "build" / "release" / "vigil"
ADMIN_EMAIL = "admin@localhost"
ADMIN_PASSWORD = "bench-password-123"
# S2/S3's model: the file every target serves (uploaded to Vigil, loaded by the Python peers) and
# its rows with the xgboost package's predictions (tests/data/models/, shared with Vigil's tests).
MODEL_NAME = "breast_cancer"
MODEL_FILE = REPO / "tests" / "data" / "models" / "breast_cancer.ubj"
MODEL_EXPECTED = REPO / "tests" / "data" / "models" / "breast_cancer.expected.json"


class BenchError(Exception):
    """A failure the user can act on; main prints its message without a traceback."""


def workdir():
    path = os.environ.get("BENCH_WORKDIR") or tempfile.mkdtemp(prefix="vigil-bench-")
    os.environ["BENCH_WORKDIR"] = path
    return Path(path)


def fresh_dir(prefix):
    return Path(tempfile.mkdtemp(prefix=prefix + "-", dir=workdir()))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(port, path, timeout=1.0):
    """Status of GET path, or None when nothing answers yet."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()


def http_request(port, method, path, body=None, headers=None, timeout=5.0):
    """(status, body bytes) of one request; bytes are sent as they are (name the Content-Type in
    headers), anything else JSON-able as application/json."""
    headers = dict(headers or {})
    data = None
    if isinstance(body, bytes):
        data = body
    elif body is not None:
        data = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=headers)
        res = conn.getresponse()
        return res.status, res.read()
    except OSError as e:
        raise BenchError(f"{method} {path} on 127.0.0.1:{port} failed: {e}") from e
    finally:
        conn.close()


def spawn(argv, **kwargs):
    """Popen in a new process group, recorded in $BENCH_WORKDIR/pgids for bench/run's cleanup;
    stdin is /dev/null unless given."""
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    proc = subprocess.Popen(argv, start_new_session=True, **kwargs)
    with open(workdir() / "pgids", "a") as f:
        f.write(f"{proc.pid}\n")
    return proc


class Server:
    def __init__(self, name, argv, ready_path="/healthz", env=None, cwd=None, port=None):
        self.name, self.argv, self.ready_path = name, argv, ready_path
        self.env, self.cwd, self.port = env, cwd, port
        self.proc = None
        self.token = None  # S1's bearer token: a peer's is seeded at start-up, Vigil's from login()
        self.log_path = workdir() / f"{name}-{port}.log"

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        """Runs the server; returns the time.monotonic() just before exec."""
        env = dict(os.environ, **(self.env or {}))
        log = open(self.log_path, "ab")
        t0 = time.monotonic()
        try:
            self.proc = spawn(self.argv, env=env, cwd=self.cwd, stdout=log,
                              stderr=subprocess.STDOUT)
        except FileNotFoundError as e:
            raise BenchError(f"{self.name}: {e.filename} not found "
                             f"(scripts/install-deps --bench installs the peers)") from e
        finally:
            log.close()
        return t0

    def wait_ready(self, timeout=20.0, interval=0.005):
        """Polls ready_path until 200; returns time.monotonic() of the first 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name} exited with {self.proc.returncode} before it was "
                                 f"ready:\n{self.log_tail()}")
            if http_status(self.port, self.ready_path) == 200:
                return time.monotonic()
            time.sleep(interval)
        raise BenchError(f"{self.name} not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self):
        """Stops the whole process group: SIGTERM, then SIGKILL after 5 s."""
        if self.proc is None:
            return
        self.proc.poll()  # reap an exited leader so an empty group reads as gone
        if not _group_alive(self.proc.pid):
            return
        for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and _group_alive(self.proc.pid):
                self.proc.poll()
                time.sleep(0.02)
            if not _group_alive(self.proc.pid):
                break
        self.proc.wait()

    def log_tail(self, lines=20):
        return log_tail(self.log_path, lines)


def log_tail(path, lines=20):
    """The last lines of a log file, indented for an error message."""
    try:
        text = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join("  | " + line for line in text[-lines:]) or "  | (empty log)"


def _group_alive(pgid):
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True  # note: an unreaped (zombie) leader counts; callers poll() it


def built_binary(explicit, vigil, relative, target, option):
    """A helper binary the build puts beside vigil: `explicit` (its option's value) if given, else
    `relative` below vigil's build dir; a BenchError saying how to build or name it otherwise."""
    path = explicit or Path(vigil).parent / relative
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise BenchError(f"{path} not found: build it (cmake --build --preset release --target "
                         f"{target}), or name it with {option}")
    return path


def require_vigil(path):
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise BenchError(
            f"{path} not found: build Vigil first (cmake --preset release && cmake --build --preset "
            f"release), or bench the peers alone "
            f"with: bench/run --scenarios S1 --targets nginx,flask,fastapi")


def vigil(path, data_dir=None, port=None, audit=True, name="vigil", env=None):
    """`vigil serve` on a fresh data dir; audit=False adds VIGIL_AUDIT__ENABLED=false (a binary
    that does not know that setting refuses to start, with the reason in its log); env adds
    more settings (VIGIL_INFERENCE__MAX_BATCH_ROWS=1 for vigil-nobatch)."""
    port = port or free_port()
    data_dir = data_dir or fresh_dir(name + "-data")
    env = {"VIGIL_ADMIN_PASSWORD": ADMIN_PASSWORD, "VIGIL_LOG__LEVEL": "warn", **(env or {})}
    if not audit:
        env["VIGIL_AUDIT__ENABLED"] = "false"
    return Server(name, [str(path), "serve", "--host", "127.0.0.1", "--port", str(port),
                         "--data-dir", str(data_dir)],
                  ready_path="/readyz", port=port, env=env)


def login(server):
    """POST /api/v1/auth/login as the admin; the token, or None when the route answers 404
    (a binary built before the auth endpoints). Any other answer is an error."""
    status, body = http_request(server.port, "POST", "/api/v1/auth/login",
                                body={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    if status == 404:
        return None
    text = body.decode(errors="replace")
    if status != 200:
        raise BenchError(f"{server.name}: POST /api/v1/auth/login answered {status}: {text[:500]}")
    try:
        token = json.loads(text)["token"]
    except (ValueError, KeyError, TypeError) as e:
        raise BenchError(f"{server.name}: POST /api/v1/auth/login answered 200 without a "
                         f"token: {text[:500]}") from e
    if not isinstance(token, str) or not token:
        raise BenchError(f"{server.name}: login token is not a non-empty string: {text[:500]}")
    return token


def upload_model(server, token, path=MODEL_FILE, name=MODEL_NAME, kind="xgboost", metadata=None):
    """POST /api/v1/models/{name}/versions?kind=... with the file as the body, as the admin, and
    `metadata` (a dict) as its Vigil-Metadata; the new version's JSON. Anything but 201 (or 200)
    is an error."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/octet-stream"}
    if metadata is not None:
        headers["Vigil-Metadata"] = json.dumps(metadata)
    status, body = http_request(
        server.port, "POST", f"/api/v1/models/{name}/versions?kind={kind}",
        body=Path(path).read_bytes(), timeout=30.0, headers=headers)
    text = body.decode(errors="replace")
    if status not in (200, 201):
        raise BenchError(f"{server.name}: POST /api/v1/models/{name}/versions?kind={kind} "
                         f"({path}) answered {status}: {text[:500]}")
    try:
        return json.loads(text)
    except ValueError as e:
        raise BenchError(f"{server.name}: the model upload answered {status} with no JSON: "
                         f"{text[:500]}") from e


def nginx():
    exe = shutil.which("nginx") or "/usr/sbin/nginx"
    port, prefix = free_port(), fresh_dir("nginx")
    conf = (PEERS / "nginx.conf").read_text()
    conf = conf.replace("@PREFIX@", str(prefix)).replace("@PORT@", str(port))
    (prefix / "nginx.conf").write_text(conf)
    return Server("nginx", [exe, "-p", str(prefix), "-c", str(prefix / "nginx.conf")], port=port)


def _peer_env(name):
    """A fresh token-table file and a random token for a Python peer (see peers/peer_db.py), and
    the model file it loads (peers/peer_model.py)."""
    token = secrets.token_urlsafe(32)
    return token, {"BENCH_PEER_DB": str(fresh_dir(name) / "peer.db"), "BENCH_PEER_TOKEN": token,
                   "BENCH_PEER_MODEL": str(MODEL_FILE)}


def flask():
    # gunicorn's standard deployment: sync workers, one per core here (see flask_app.py).
    port = free_port()
    token, env = _peer_env("flask")
    server = Server("flask", ["/usr/bin/gunicorn", "--worker-class", "sync",
                              "--workers", str(os.cpu_count() or 1),
                              "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
                              "--chdir", str(PEERS), "flask_app:app"],
                    port=port, cwd=PEERS, env=env)
    server.token = token
    return server


def fastapi():
    # One uvicorn process with uvloop + httptools, named so a missing package fails loudly
    # instead of falling back to the slower pure-Python stack (see fastapi_app.py).
    port = free_port()
    token, env = _peer_env("fastapi")
    server = Server("fastapi", ["/usr/bin/uvicorn", "--host", "127.0.0.1", "--port", str(port),
                                "--workers", "1", "--loop", "uvloop", "--http", "httptools",
                                "--no-access-log", "--log-level", "warning",
                                "--app-dir", str(PEERS), "fastapi_app:app"],
                    port=port, cwd=PEERS, env=env)
    server.token = token
    return server


PEER_FACTORIES = {"nginx": nginx, "flask": flask, "fastapi": fastapi}
