"""FastAPI peer for bench/: the stack the seed systems ran, FastAPI served by uvicorn.

bench/lib/servers.py serves it as
    uvicorn --host 127.0.0.1 --port PORT --workers 1 --no-access-log fastapi_app:app
One uvicorn process is uvicorn's default and how FastAPI's own docs and the seed ran it; a
multi-core production setup adds processes (uvicorn --workers N, or gunicorn with
uvicorn.workers.UvicornWorker). uvicorn uses uvloop and httptools when they are installed,
which is what `pip install "uvicorn[standard]"` gives; scripts/install-deps --bench installs
both from Debian (python3-uvloop, python3-httptools), so this is the fast configuration.

Each route mirrors one Vigil endpoint for one scenario: same method, path and JSON shape.
Add a scenario as another route here and in flask_app.py, not as a new app, e.g.
  S1  GET  /api/v1/auth/me                   Bearer token looked up (hashed) in a SQLite
                                             table whose path the harness passes in the env
  S2  POST /v2/models/breast_cancer/infer    KServe v2 body, xgboost.Booster loaded once
Shared helpers (token table, model loading) would go in a common module beside these files.
"""
from fastapi import FastAPI

app = FastAPI()


@app.get("/healthz")
async def healthz():
    return {"status": "ok"}
