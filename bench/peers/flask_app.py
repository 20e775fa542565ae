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
  S2  POST /v2/models/breast_cancer/infer    KServe v2 JSON, the same token check as S1, then
  S3                                         an xgboost.Booster loaded once per worker from the
                                             file the harness passes in the env (peer_model.py,
                                             shared with fastapi_app.py); 1 row (S2) or 256 (S3)
/healthz stays: it is the readiness probe, and S1's path while Vigil has no auth endpoints.
"""
from flask import Flask, request

import peer_db
import peer_model

app = Flask(__name__)
peer_db.seed()  # each gunicorn worker imports this module; seeding is idempotent
# Once per worker, like the token table's connection. One OpenMP thread per prediction: the
# workers (one per core) are the parallelism. With xgboost's default (every core) each worker's
# OpenMP team spins on the cores the other worker and wrk need, and this peer measured 20-30×
# slower (~50 instead of ~1 500 req/s on S2 here); a multi-process server is deployed with
# nthread=1 (or OMP_NUM_THREADS=1) for that reason.
booster = peer_model.load(nthread=1)


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@app.get("/api/v1/auth/me")
def auth_me():
    user = peer_db.current_user(request.headers.get("Authorization"))
    if user is None:
        return _unauthorized()
    return user


@app.post(f"/v2/models/{peer_model.MODEL_NAME}/infer")
def infer():
    if peer_db.current_user(request.headers.get("Authorization")) is None:
        return _unauthorized()
    body = request.get_json(silent=True)
    if body is None:
        return _problem(400, "the body is not JSON")
    try:
        return peer_model.infer(body, booster)
    except peer_model.InferError as e:
        return _problem(e.status, e.detail)


def _unauthorized():
    return peer_db.UNAUTHORIZED, 401, {"Content-Type": "application/problem+json",
                                       "WWW-Authenticate": "Bearer"}


def _problem(status, detail):
    return peer_model.problem(status, detail), status, {"Content-Type": "application/problem+json"}
