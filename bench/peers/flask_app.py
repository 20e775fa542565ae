"""Flask peer for bench/: the stack the seed systems ran, Flask served by gunicorn.

bench/lib/servers.py serves it as
    gunicorn --worker-class sync --workers $(nproc) --bind 127.0.0.1:PORT flask_app:app
Sync workers are gunicorn's default and the usual Flask deployment (gunicorn's docs suggest
2-4 workers per core; we run one per core because the load generator shares the same cores).
A sync worker serves one connection at a time and closes it after each response, so wrk's
keep-alive connections are re-opened per request: that is how this stack behaves.

Each route mirrors one Vigil endpoint for one scenario: same method, path and JSON shape.
Add a scenario as another route here and in fastapi_app.py, not as a new app:
  S1  GET  /api/v1/auth/me                   Bearer token looked up (hashed) in a SQLite
                                             table whose path the harness passes in the env
                                             (peer_db.py, shared with fastapi_app.py)
  S2  POST /v2/models/breast_cancer/infer    KServe v2 body, xgboost.Booster loaded once
/healthz stays: it is the readiness probe, and S1's path while Vigil has no auth endpoints.
"""
from flask import Flask, request

import peer_db

app = Flask(__name__)
peer_db.seed()  # each gunicorn worker imports this module; seeding is idempotent


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@app.get("/api/v1/auth/me")
def auth_me():
    user = peer_db.current_user(request.headers.get("Authorization"))
    if user is None:
        return peer_db.UNAUTHORIZED, 401, {"Content-Type": "application/problem+json",
                                           "WWW-Authenticate": "Bearer"}
    return user
