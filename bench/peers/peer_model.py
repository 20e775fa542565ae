"""The XGBoost model behind the peers' S2/S3 route, POST /v2/models/breast_cancer/infer
(flask_app.py, fastapi_app.py): what a Flask or FastAPI service serving an xgboost.Booster with
the KServe v2 inference protocol does.

bench/lib/servers.py starts each peer with
    BENCH_PEER_MODEL  the model file (tests/data/models/breast_cancer.ubj, the one Vigil gets)
and each worker process loads it once, at import, into an xgboost.Booster (python3-xgboost).
A request is parsed as Vigil parses it (docs/http/inference.md): the first of `inputs`, shape
[rows, features], datatype FP32/FP64/INT32/INT64, `data` flat or nested, row-major, null =
missing; the rows go to Booster.inplace_predict (no DMatrix: the cheapest predict call the
package has) and the answer has Vigil's shape:
    {"model_name", "model_version", "id", "outputs": [{"name": "predict", "datatype": "FP32",
     "shape": [rows], "data": [...]}]}
A body that is not that is a 422 problem JSON naming the field, as in Vigil.
"""
import importlib.util
import os
import sys
import uuid

# xgboost 1.7's inplace_predict runs `import pandas` twice per call to test its input's type.
# Where pandas is installed (the usual deployment) that is a dict lookup; where it is not, as on
# these machines, each failed import searches sys.path again and costs more than the prediction
# (~120 µs of ~190 µs for one row). Marking it absent gives the installed-pandas cost, so the peer
# is not slowed by a missing package. Only when it is really not importable.
if importlib.util.find_spec("pandas") is None:
    sys.modules["pandas"] = None

import numpy as np  # noqa: E402
import xgboost  # noqa: E402

MODEL_NAME = "breast_cancer"
MODEL_VERSION = "1"  # Vigil's first version of an uploaded model
DATATYPES = ("FP32", "FP64", "INT32", "INT64")


class InferError(Exception):
    """A request the route answers with problem JSON: status and detail."""

    def __init__(self, status, detail):
        super().__init__(detail)
        self.status, self.detail = status, detail


def problem(status, detail):
    """Vigil's problem JSON (RFC 9457)."""
    titles = {400: "Bad Request", 422: "Unprocessable Content"}
    return {"type": "about:blank", "title": titles.get(status, "Error"), "status": status,
            "detail": detail}


def load(path=None, nthread=None):
    """The Booster from $BENCH_PEER_MODEL (or path); nthread: its OpenMP threads per prediction
    (None: xgboost's default, every core)."""
    path = path or os.environ.get("BENCH_PEER_MODEL")
    if not path:
        raise RuntimeError("BENCH_PEER_MODEL is not set: bench/lib/servers.py sets it when it "
                           "starts a peer")
    booster = xgboost.Booster(model_file=path)
    if nthread is not None:
        booster.set_param({"nthread": nthread})
    return booster


def parse_inputs(body, num_features):
    """The request's rows as a float32 array [rows, num_features], NaN for null; InferError
    (422) for anything Vigil would reject."""
    if not isinstance(body, dict):
        raise InferError(422, "body: expected a JSON object")
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not inputs or not isinstance(inputs[0], dict):
        raise InferError(422, "inputs: expected a non-empty array of objects")
    tensor = inputs[0]
    shape, datatype, data = tensor.get("shape"), tensor.get("datatype"), tensor.get("data")
    if datatype not in DATATYPES:
        raise InferError(422, f"inputs[0].datatype: expected one of {', '.join(DATATYPES)}")
    if (not isinstance(shape, list) or len(shape) != 2
            or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)):
        raise InferError(422, "inputs[0].shape: expected [rows, features]")
    if shape[1] != num_features:
        raise InferError(422, f"inputs[0].shape: the model expects {num_features} features, "
                              f"got {shape[1]}")
    if not isinstance(data, list):
        raise InferError(422, "inputs[0].data: expected an array")
    try:
        x = np.asarray(data, dtype=np.float32)  # nested lists too; None -> NaN (missing)
    except (TypeError, ValueError) as e:
        raise InferError(422, f"inputs[0].data: {e}") from e
    if x.size != shape[0] * shape[1]:
        raise InferError(422, f"inputs[0].data: {x.size} values do not match shape {shape}")
    return x.reshape(shape[0], shape[1])


def infer(body, booster):
    """The KServe v2 response for a parsed request body; InferError for a bad one."""
    x = parse_inputs(body, booster.num_features())
    predictions = booster.inplace_predict(x) if len(x) else np.zeros(0, dtype=np.float32)
    request_id = body.get("id")
    return {"model_name": MODEL_NAME, "model_version": MODEL_VERSION,
            "id": request_id if isinstance(request_id, str) else uuid.uuid4().hex,
            "outputs": [{"name": "predict", "datatype": "FP32", "shape": [len(x)],
                         "data": predictions.astype(np.float32).tolist()}]}
