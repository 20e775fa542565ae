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
  S2  POST /v2/models/breast_cancer/infer    KServe v2 body, xgboost.Booster loaded once
/healthz stays: it is the readiness probe, and S1's path while Vigil has no auth endpoints.
"""
from typing import Optional

from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse

import peer_db

app = FastAPI()
peer_db.seed()


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
        return JSONResponse(peer_db.UNAUTHORIZED, status_code=401,
                            media_type="application/problem+json",
                            headers={"WWW-Authenticate": "Bearer"})
    return user
