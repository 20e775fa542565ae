"""S2/S3's request and checks: the KServe v2 body wrk POSTs, the Lua script that makes wrk POST
it, the check of an answer against the xgboost package's predictions, the goals, and the batch
sizes read back from Vigil's /metrics. Pure functions (lib/infer_test.py)."""
import json
import math
import struct
from dataclasses import dataclass, field

MODEL_NAME = "breast_cancer"
INFER_PATH = f"/v2/models/{MODEL_NAME}/infer"
TOLERANCE = 1e-5  # BENCHMARKS.md Q2: predictions vs the xgboost package


@dataclass(frozen=True)
class Spec:
    """One inference scenario: rows per request and its goals (BENCHMARKS.md)."""
    scenario: str
    title: str
    rows: int                      # rows per request
    min_rows_per_s: float          # Vigil's rows/s (req/s × rows)
    min_ratio: dict = field(default_factory=dict)  # peer -> Vigil req/s ÷ peer req/s at least
    batching_beats_off: bool = False  # vigil must beat vigil-nobatch


def f32(x):
    """The shortest decimal that reads back as the same float32 as x ("null" for None): what a
    client holding float32 features sends, and what Vigil and the peers parse into the same
    FP32 value."""
    if x is None:
        return "null"
    v = _to_f32(x)
    if not math.isfinite(v):
        raise ValueError(f"not a finite number: {x!r}")
    for digits in range(1, 10):  # 9 significant digits always round-trip a float32
        text = f"{v:.{digits}g}"
        if _to_f32(float(text)) == v:
            return text
    raise AssertionError("unreachable: 9 digits round-trip every float32")


def _to_f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def cycle(rows, predictions, n):
    """The first n rows, cycling through them when n > len(rows), with their predictions."""
    if not rows or len(rows) != len(predictions):
        raise ValueError("need as many predictions as rows, and at least one row")
    return ([rows[i % len(rows)] for i in range(n)],
            [predictions[i % len(rows)] for i in range(n)])


def request_body(rows):
    """The KServe v2 request for rows (lists of numbers or None): one FP32 tensor [n, features],
    its data flat and row-major."""
    width = len(rows[0])
    if any(len(r) != width for r in rows):
        raise ValueError("rows of different lengths")
    data = ",".join(f32(x) for r in rows for x in r)
    return ('{"inputs":[{"name":"x","shape":[%d,%d],"datatype":"FP32","data":[%s]}]}'
            % (len(rows), width, data))


def wrk_script(body):
    """A wrk Lua script that sends every request as a POST of body (JSON on one line). The body
    goes in a long bracket string whose level nothing in it can close early (a `]=…=]` inside,
    or a `]` at its end followed by the closing bracket)."""
    if "\n" in body or "\r" in body:
        raise ValueError("the body must be one line (Lua rewrites line ends in a long string)")
    level = 0
    while "]" + "=" * level + "]" in body + "]":
        level += 1
    eq = "=" * level
    return ("-- bench/lib/infer.py: S2/S3, every request the same KServe v2 POST\n"
            'wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            f"wrk.body = [{eq}[{body}]{eq}]\n")


def check_response(status, body, expected, tolerance=TOLERANCE):
    """None when an infer answer is 200 with Vigil's response shape and the expected predictions
    (each within tolerance), else a sentence saying what is wrong, with the answer."""
    text = body.decode(errors="replace") if isinstance(body, bytes) else body
    shown = text if len(text) <= 500 else text[:500] + "…"
    if status != 200:
        return f"answered {status}: {shown}"
    try:
        doc = json.loads(text)
    except ValueError:
        return f"answered 200 without JSON: {shown}"
    if not isinstance(doc, dict) or doc.get("model_name") != MODEL_NAME:
        return f"answered 200 without model_name {MODEL_NAME!r}: {shown}"
    outputs = doc.get("outputs")
    out = outputs[0] if isinstance(outputs, list) and outputs else None
    if not isinstance(out, dict) or out.get("name") != "predict" or out.get("datatype") != "FP32":
        return f"answered 200 without an FP32 output named predict first: {shown}"
    if out.get("shape") != [len(expected)]:
        return f"answered 200 with shape {out.get('shape')}, expected [{len(expected)}]: {shown}"
    data = out.get("data")
    if not isinstance(data, list) or len(data) != len(expected):
        return f"answered 200 with {len(data) if isinstance(data, list) else 'no'} predictions, " \
               f"expected {len(expected)}: {shown}"
    for i, (got, want) in enumerate(zip(data, expected)):
        if (not isinstance(got, (int, float)) or isinstance(got, bool)
                or not abs(got - want) <= tolerance):
            return (f"answered 200 with prediction {i} = {got!r}, expected {want!r} "
                    f"(± {tolerance:g}): {shown}")
    return None


def goal(spec, name, med, errors):
    """(goal text, met: True/False, or None when not checked) for one target's row. med: median
    req/s by target; errors: that target's errors over all runs."""
    vigil = med.get("vigil")
    if name == "vigil":
        ok = vigil * spec.rows >= spec.min_rows_per_s and errors == 0
        need = f"{spec.min_rows_per_s:,.0f}".replace(",", " ")
        return f"≥ {need} rows/s, no errors", ok
    if name == "vigil-base":
        return "before/after: Vigil ÷ vigil-base, no goal", None
    if name == "vigil-nobatch" and spec.batching_beats_off:
        return ("Vigil > vigil-nobatch (batching on beats off)",
                None if vigil is None else vigil > med[name])
    if name in spec.min_ratio:
        need = spec.min_ratio[name]
        return f"Vigil ≥ {need:g}× {name}", None if vigil is None else vigil / med[name] >= need
    return "—", None


def metric_total(text, name):
    """The sum of every sample of one metric (all label sets) in Prometheus text, or None when
    it has none."""
    total, found = 0.0, False
    for line in text.splitlines():
        if line.startswith(name) and line[len(name):len(name) + 1] in ("{", " "):
            try:
                total += float(line.rsplit(None, 1)[1])
            except (IndexError, ValueError):
                continue
            found = True
    return total if found else None


def batch_stats(metrics_text):
    """What Vigil's batcher did, from its /metrics: rows per model call, compute µs per call and
    queue wait µs per request (each None when the metrics are missing or nothing ran)."""
    def per(numerator, denominator, scale=1.0):
        a, b = metric_total(metrics_text, numerator), metric_total(metrics_text, denominator)
        return None if a is None or not b else a / b * scale
    return {"rows_per_call": per("vigil_batch_rows_total", "vigil_batches_total"),
            "compute_us_per_call": per("vigil_batch_compute_seconds_sum",
                                       "vigil_batch_compute_seconds_count", 1e6),
            "wait_us_per_request": per("vigil_batch_queue_wait_seconds_sum",
                                       "vigil_batch_queue_wait_seconds_count", 1e6)}


def describe_batches(name, stats):
    """One target's batch_stats as words, or None when there is nothing to say."""
    parts = []
    if stats.get("rows_per_call") is not None:
        parts.append(f"{stats['rows_per_call']:.1f} rows per model call")
    if stats.get("compute_us_per_call") is not None:
        parts.append(f"{stats['compute_us_per_call']:.0f} µs compute per call")
    if stats.get("wait_us_per_request") is not None:
        parts.append(f"{stats['wait_us_per_request']:.0f} µs queue wait per request")
    return f"{name}: {', '.join(parts)}" if parts else None
