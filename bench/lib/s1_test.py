"""Unit tests for S1's path choice, audit cost, Vigil login and the peers' token table:
/usr/bin/python3 -m unittest discover -s bench/lib -p '*_test.py'"""
import http.server
import json
import os
import sqlite3
import sys
import tempfile
import threading
import time
import types
import unittest
from pathlib import Path

import scenarios
import servers
from servers import BenchError

sys.path.insert(0, str(servers.PEERS))
import peer_db  # noqa: E402  (bench/peers is not a package)


class TargetsTest(unittest.TestCase):
    def test_default_has_noaudit_only_on_auth_path(self):
        self.assertEqual(scenarios.s1_targets(None, True),
                         ["vigil", "vigil-noaudit", "nginx", "flask", "fastapi"])
        self.assertEqual(scenarios.s1_targets(None, False), ["vigil", "nginx", "flask", "fastapi"])

    def test_explicit_targets_are_kept(self):
        self.assertEqual(scenarios.s1_targets(["vigil-noaudit", "nginx"], False),
                         ["vigil-noaudit", "nginx"])

    def test_baseline_joins_the_defaults_next_to_vigil(self):
        args = types.SimpleNamespace(baseline=Path("/tmp/vigil-before"))
        self.assertEqual(scenarios.with_baseline(["vigil", "nginx"], args),
                         ["vigil", "vigil-base", "nginx"])
        self.assertEqual(scenarios.with_baseline(["vigil", "nginx"],
                                                 types.SimpleNamespace(baseline=None)),
                         ["vigil", "nginx"])
        self.assertEqual(scenarios.vigil_binary("vigil-base", args), Path("/tmp/vigil-before"))
        # Without the audit pair, vigil and vigil-base are measured back to back.
        for run in range(4):
            order = scenarios.s1_rotation(["vigil", "vigil-base", "nginx"], run)
            self.assertEqual(abs(order.index("vigil") - order.index("vigil-base")), 1, order)

    def test_paired_rotation_keeps_vigil_and_noaudit_back_to_back(self):
        targets = ["vigil", "vigil-noaudit", "nginx", "flask", "fastapi"]
        orders = [scenarios.paired_rotation(targets, run) for run in range(8)]
        for run, order in enumerate(orders):
            self.assertEqual(sorted(order), sorted(targets))
            i, j = order.index("vigil"), order.index("vigil-noaudit")
            self.assertEqual(abs(i - j), 1, order)
            self.assertEqual(i < j, run % 2 == 0, order)  # who goes first alternates
        # The pair's slot still moves through the order like any other target.
        self.assertEqual({min(o.index("vigil"), o.index("vigil-noaudit")) for o in orders},
                         {0, 1, 2, 3})
        # Without both of the pair, it is the plain rotation.
        self.assertEqual(scenarios.paired_rotation(["vigil", "nginx"], 1), ["nginx", "vigil"])

    def test_audit_cost(self):
        self.assertAlmostEqual(scenarios.audit_cost(95.0, 100.0), 0.05)
        self.assertAlmostEqual(scenarios.audit_cost(100.0, 100.0), 0.0)
        self.assertLess(scenarios.audit_cost(101.0, 100.0), 0.0)  # noise can make it negative


class _Stub(http.server.BaseHTTPRequestHandler):
    answer = (404, b"")

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        status, body = self.answer
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class LoginTest(unittest.TestCase):
    def setUp(self):
        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), _Stub)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.server = types.SimpleNamespace(name="vigil", port=self.httpd.server_address[1])

    def tearDown(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def login(self, status, body):
        _Stub.answer = (status, body)
        return servers.login(self.server)

    def test_404_means_no_auth_yet(self):
        self.assertIsNone(self.login(404, b'{"status":404}'))

    def test_200_gives_the_token(self):
        self.assertEqual(self.login(200, json.dumps({"token": "abc", "user": {}}).encode()), "abc")

    def test_anything_else_is_an_error(self):
        with self.assertRaises(BenchError):
            self.login(401, b'{"status":401}')
        with self.assertRaises(BenchError):
            self.login(200, b'{"user":{}}')
        with self.assertRaises(BenchError):
            self.login(200, b"not json")


class PeerDbTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = str(Path(self.dir.name) / "peer.db")
        self.env = dict(os.environ)
        os.environ.update(BENCH_PEER_DB=self.path, BENCH_PEER_TOKEN="tok-123")
        peer_db._local.__dict__.pop("conn", None)
        peer_db.seed()
        peer_db.seed()  # every gunicorn worker seeds: must be idempotent

    def tearDown(self):
        conn = peer_db._local.__dict__.pop("conn", None)
        if conn is not None:
            conn.close()
        os.environ.clear()
        os.environ.update(self.env)
        self.dir.cleanup()

    def test_token_gives_the_admin(self):
        self.assertEqual(peer_db.current_user("Bearer tok-123"), scenarios.S1_ME)
        self.assertEqual(peer_db.current_user("bearer tok-123"), scenarios.S1_ME)

    def test_stores_only_the_hash(self):
        with sqlite3.connect(self.path) as conn:
            rows = conn.execute("SELECT token_hash FROM tokens").fetchall()
        self.assertEqual(rows, [(peer_db.token_hash("tok-123"),)])
        self.assertEqual(len(rows[0][0]), 64)

    def test_missing_or_bad_token(self):
        for header in (None, "", "Bearer", "Bearer ", "Basic tok-123", "Bearer tok-124",
                       "tok-123"):
            self.assertIsNone(peer_db.current_user(header), header)

    def test_expired_token(self):
        with sqlite3.connect(self.path) as conn:
            conn.execute("UPDATE tokens SET expires_at = ?", (int(time.time()) - 1,))
        self.assertIsNone(peer_db.current_user("Bearer tok-123"))


if __name__ == "__main__":
    unittest.main()
