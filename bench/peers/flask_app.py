"""Flask peer for bench/: the stack the seed systems ran, Flask served by gunicorn.

bench/lib/servers.py serves it as
    gunicorn --worker-class sync --workers $(nproc) --bind 127.0.0.1:PORT flask_app:app
Sync workers are gunicorn's default and the usual Flask deployment (gunicorn's docs suggest
2-4 workers per core; we run one per core because the load generator shares the same cores).
A sync worker serves one connection at a time and closes it after each response, so wrk's
keep-alive connections are re-opened per request: that is how this stack behaves.

Each route mirrors one Vigil endpoint for one scenario: same method, path and JSON shape.
Add a scenario as another route here and in fastapi_app.py, not as a new app, e.g.
  S1  GET  /api/v1/auth/me                   Bearer token looked up (hashed) in a SQLite
                                             table whose path the harness passes in the env
  S2  POST /v2/models/breast_cancer/infer    KServe v2 body, xgboost.Booster loaded once
Shared helpers (token table, model loading) would go in a common module beside these files.
"""
from flask import Flask

app = Flask(__name__)


@app.get("/healthz")
def healthz():
    return {"status": "ok"}
