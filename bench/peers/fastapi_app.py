"""FastAPI peer for bench/: the stack the seed systems ran, FastAPI served by uvicorn.

bench/lib/servers.py serves it as
    uvicorn --host 127.0.0.1 --port PORT --workers 1 --no-access-log fastapi_app:app
One uvicorn process is uvicorn's default and how FastAPI's own docs and the seed ran it; a
multi-core production setup adds processes (uvicorn --workers N, or gunicorn with
uvicorn.workers.UvicornWorker). uvicorn uses uvloop and httptools when they are installed,
which is what `pip install "uvicorn[standard]"` gives; scripts/install-deps --bench installs
both from Debian (python3-uvloop, python3-httptools), so this is the fast configuration.

Each route mirrors one Vigil endpoint for one scenario: same method, path and JSON shape.
Add a scenario as another route here and in flask_app.py, not as a new app:
  S1  GET  /api/v1/auth/me                   Bearer token looked up (hashed) in a SQLite
                                             table whose path the harness passes in the env
                                             (peer_db.py, shared with flask_app.py)
  S2  POST /v2/models/breast_cancer/infer    KServe v2 JSON, the same token check as S1, then
  S3                                         an xgboost.Booster loaded once at start-up from the
                                             file the harness passes in the env (peer_model.py,
                                             shared with flask_app.py); 1 row (S2) or 256 (S3)
/healthz stays: it is the readiness probe, and S1's path while Vigil has no auth endpoints.
"""
from typing import Optional

from fastapi import Body, FastAPI, Header
from fastapi.responses import JSONResponse

import peer_db
import peer_model

app = FastAPI()
peer_db.seed()
# Once per process, with xgboost's default threads (every core): one process should use both
# cores for a 256-row request. nthread=1 (which the Flask peer needs) made no clear difference here.
booster = peer_model.load()


@app.get("/healthz")
async def healthz():
    return {"status": "ok"}


# A plain `def`, not `async def`: sqlite3 is a blocking library, and FastAPI's docs say to declare
# such path operations with `def` so they run in its thread pool instead of blocking the event
# loop. That is the idiomatic FastAPI + sqlite3 app (and the thread hop is part of its cost).
# The header is read with Header() rather than fastapi.security.HTTPBearer, whose automatic
# error (FastAPI 0.92, Debian 12) is a 403 without problem JSON; Vigil answers 401 problem JSON.
@app.get("/api/v1/auth/me")
def auth_me(authorization: Optional[str] = Header(default=None)):
    user = peer_db.current_user(authorization)
    if user is None:
        return _unauthorized()
    return user


# S2/S3. A plain `def` for the same reason (sqlite3 and xgboost both block; xgboost releases the
# GIL while it predicts, so the thread pool also lets two predictions overlap). The body is taken
# as a plain dict: FastAPI parses the JSON, and a dict costs no per-value validation, where a
# pydantic model of the KServe v2 request would validate every one of up to 7 680 numbers — the
# cheaper pattern, so Vigil's ratio is not flattered. The answer is a JSONResponse, which skips
# jsonable_encoder's walk over the output.
@app.post(f"/v2/models/{peer_model.MODEL_NAME}/infer")
def infer(body: dict = Body(...), authorization: Optional[str] = Header(default=None)):
    if peer_db.current_user(authorization) is None:
        return _unauthorized()
    try:
        return JSONResponse(peer_model.infer(body, booster))
    except peer_model.InferError as e:
        return JSONResponse(peer_model.problem(e.status, e.detail), status_code=e.status,
                            media_type="application/problem+json")


def _unauthorized():
    return JSONResponse(peer_db.UNAUTHORIZED, status_code=401,
                        media_type="application/problem+json",
                        headers={"WWW-Authenticate": "Bearer"})
