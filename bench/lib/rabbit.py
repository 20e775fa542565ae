"""A RabbitMQ broker for S9: Debian's rabbitmq-server in a temp dir with its own epmd, every
listener on 127.0.0.1 on free ports, no plugins (what tests/support/rabbit_server.cpp does for
the tests). Boot takes ~5-8 s."""
import os
import signal
import socket
import time

import servers
from servers import BenchError

SCRIPT = "/usr/lib/rabbitmq/bin/rabbitmq-server"
EPMD = "/usr/bin/epmd"


def _answers_amqp(port):
    """True when the port answers the AMQP 0-9-1 header with a frame: the broker is up."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"AMQP\x00\x00\x09\x01")
            s.settimeout(2)
            return s.recv(1) == b"\x01"
    except OSError:
        return False


class Broker:
    def __init__(self):
        self.dir = servers.fresh_dir("rabbitmq")
        self.port, self.dist_port, self.epmd_port = (servers.free_port() for _ in range(3))
        self.epmd = self.proc = None
        self.log_path = self.dir / "broker.log"

    @property
    def url(self):
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def start(self, timeout=60.0):
        for path in (SCRIPT, EPMD):
            if not os.access(path, os.X_OK):
                raise BenchError(f"{path} not found: S9 needs Debian's rabbitmq-server "
                                 f"(scripts/install-deps installs it)")
        (self.dir / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\nlog.console = false\n")
        (self.dir / "enabled_plugins").write_text("[].\n")
        (self.dir / "advanced.config").write_text("[].\n")
        self.epmd = servers.spawn([EPMD, "-port", str(self.epmd_port), "-address", "127.0.0.1"])
        d = str(self.dir)
        env = dict(os.environ, HOME=d, RABBITMQ_NODENAME=f"bench{self.port}@localhost",
                   RABBITMQ_NODE_IP_ADDRESS="127.0.0.1", RABBITMQ_NODE_PORT=str(self.port),
                   RABBITMQ_DIST_PORT=str(self.dist_port), ERL_EPMD_PORT=str(self.epmd_port),
                   ERL_EPMD_ADDRESS="127.0.0.1",
                   RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}",
                   RABBITMQ_MNESIA_BASE=d + "/mnesia", RABBITMQ_LOG_BASE=d + "/log",
                   RABBITMQ_CONFIG_FILE=d + "/rabbitmq.conf",
                   RABBITMQ_ADVANCED_CONFIG_FILE=d + "/advanced.config",
                   RABBITMQ_ENABLED_PLUGINS_FILE=d + "/enabled_plugins",
                   RABBITMQ_CONF_ENV_FILE=d + "/rabbitmq-env.conf", RUNNING_UNDER_SYSTEMD="1")
        with open(self.log_path, "ab") as log:
            self.proc = servers.spawn([SCRIPT], env=env, cwd=d, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while not _answers_amqp(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise BenchError("rabbitmq-server did not start:\n" +
                                 servers.log_tail(self.log_path))
            time.sleep(0.1)

    def stop(self):
        for proc in (self.proc, self.epmd):
            if proc is None or proc.poll() is not None:
                continue
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except Exception:  # noqa: BLE001 - whatever it is, it goes
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
