"""The SQLite token table behind the peers' S1 route, GET /api/v1/auth/me (flask_app.py,
fastapi_app.py): what a Flask or FastAPI service with session tokens in a database does.

bench/lib/servers.py starts each peer with two environment variables:
    BENCH_PEER_DB     a temp file for the database (one per peer)
    BENCH_PEER_TOKEN  the bearer token the harness will send
At start-up seed() creates the tables (or opens them: every gunicorn worker imports the app and
seeds, so it is idempotent), the admin user and that one token, stored as the hex SHA-256 of its
value like Vigil stores its tokens. On every request current_user() hashes the presented token
and looks it up, joined with users, through a fresh cursor, then checks expiry.

Each worker thread keeps one sqlite3 connection open (a thread-local) and takes a new cursor per
request. The Flask tutorial opens a connection per request instead, which costs more; we use the
cheaper pattern so that Vigil's ratio is not flattered by a slow peer.
"""
import hashlib
import os
import sqlite3
import threading
import time

ADMIN = {"id": 1, "email": "admin@localhost", "name": "Administrator", "role": "admin"}
TOKEN_TTL_S = 24 * 3600
# Vigil's problem JSON (RFC 9457) for a missing or bad token.
UNAUTHORIZED = {"type": "about:blank", "title": "Unauthorized", "status": 401,
                "detail": "missing, unknown or expired bearer token"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id    INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name  TEXT NOT NULL,
    role  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    expires_at INTEGER NOT NULL  -- unix seconds
);
"""

_LOOKUP = """
SELECT u.id, u.email, u.name, u.role, t.expires_at
FROM tokens AS t JOIN users AS u ON u.id = t.user_id
WHERE t.token_hash = ?
"""

_local = threading.local()


def _env(name):
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: bench/lib/servers.py sets it when it starts a peer")
    return value


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def seed(path=None, token=None):
    """Creates the tables if needed and (re)inserts the admin and the harness's token."""
    path, token = path or _env("BENCH_PEER_DB"), token or _env("BENCH_PEER_TOKEN")
    conn = sqlite3.connect(path, timeout=30)  # gunicorn's workers seed concurrently
    try:
        with conn:  # one transaction, committed on leaving
            conn.executescript(_SCHEMA)
            conn.execute("INSERT OR REPLACE INTO users (id, email, name, role) VALUES (?, ?, ?, ?)",
                         (ADMIN["id"], ADMIN["email"], ADMIN["name"], ADMIN["role"]))
            conn.execute("INSERT OR REPLACE INTO tokens (token_hash, user_id, expires_at) "
                         "VALUES (?, ?, ?)",
                         (token_hash(token), ADMIN["id"], int(time.time()) + TOKEN_TTL_S))
    finally:
        conn.close()


def _connection():
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = sqlite3.connect(_env("BENCH_PEER_DB"), timeout=30)
    return conn


def current_user(authorization):
    """The user for an `Authorization: Bearer <token>` header value, or None (→ 401)."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    cur = _connection().cursor()
    try:
        row = cur.execute(_LOOKUP, (token_hash(token),)).fetchone()
    finally:
        cur.close()
    if row is None or row[4] <= time.time():
        return None
    return {"id": row[0], "email": row[1], "name": row[2], "role": row[3]}
