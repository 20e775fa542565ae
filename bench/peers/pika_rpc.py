"""S9's peer: the seed's task pattern, RabbitMQ RPC with python3-pika (RabbitMQ's tutorial six,
which the second original system followed). A client publishes each request on a durable queue
as a persistent message with reply_to (its own exclusive reply queue) and a correlation_id, and
blocks until the reply with that id arrives; replicated workers consume with prefetch 1 and
manual acknowledgements, predict with the same XGBoost model as Vigil (peer_model.load: an
xgboost.Booster, inplace_predict), publish the reply and acknowledge.

    pika_rpc.py worker AMQP_URL QUEUE        runs until SIGTERM; BENCH_PEER_MODEL names the model,
                                             BENCH_PEER_FEATURES a JSON file whose "features" list
                                             orders a row's values (the model file has no names)
    pika_rpc.py client AMQP_URL QUEUE BODY WARMUP_S MEASURE_S
        BODY is the request's JSON, {"rows": [{feature: value, ...}]}; prints one JSON line
        {"tasks": n, "latencies_ms": [...], "errors": n} for the round trips measured
"""
import json
import os
import signal
import sys
import time
import uuid

import numpy as np
import pika

import peer_model


def worker(url, queue):
    booster = peer_model.load()
    with open(os.environ["BENCH_PEER_FEATURES"]) as f:
        features = json.load(f)["features"]
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    ch.queue_declare(queue=queue, durable=True)
    ch.basic_qos(prefetch_count=1)

    def on_request(channel, method, props, body):
        try:
            rows = json.loads(body)["rows"]
            x = np.array([[row.get(f, np.nan) for f in features] for row in rows], dtype=np.float32)
            reply = {"predictions": booster.inplace_predict(x).tolist()}
        except (ValueError, KeyError, TypeError) as e:
            reply = {"error": str(e)}
        channel.basic_publish(exchange="", routing_key=props.reply_to,
                              properties=pika.BasicProperties(correlation_id=props.correlation_id),
                              body=json.dumps(reply))
        channel.basic_ack(delivery_tag=method.delivery_tag)

    ch.basic_consume(queue=queue, on_message_callback=on_request)
    signal.signal(signal.SIGTERM, lambda *_: ch.stop_consuming())
    ch.start_consuming()
    conn.close()


def client(url, queue, body, warmup_s, measure_s):
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    ch.queue_declare(queue=queue, durable=True)
    callback_queue = ch.queue_declare(queue="", exclusive=True).method.queue
    state = {"corr": None, "reply": None}

    def on_response(channel, method, props, reply):
        if props.correlation_id == state["corr"]:
            state["reply"] = reply

    ch.basic_consume(queue=callback_queue, on_message_callback=on_response, auto_ack=True)
    start = time.monotonic()
    measure_from, measure_until = start + warmup_s, start + warmup_s + measure_s
    latencies, errors = [], 0
    while True:
        t0 = time.monotonic()
        if t0 >= measure_until:
            break
        state["corr"], state["reply"] = str(uuid.uuid4()), None
        ch.basic_publish(exchange="", routing_key=queue,
                         properties=pika.BasicProperties(reply_to=callback_queue,
                                                         correlation_id=state["corr"],
                                                         delivery_mode=2),
                         body=body)
        while state["reply"] is None:
            conn.process_data_events(time_limit=None)
        t1 = time.monotonic()
        ok = "predictions" in json.loads(state["reply"])
        if t0 >= measure_from and t1 <= measure_until:
            if ok:
                latencies.append((t1 - t0) * 1000.0)
            else:
                errors += 1
    conn.close()
    print(json.dumps({"tasks": len(latencies), "latencies_ms": latencies, "errors": errors}),
          flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"] and len(sys.argv) == 4:
        worker(sys.argv[2], sys.argv[3])
    elif sys.argv[1:2] == ["client"] and len(sys.argv) == 7:
        client(sys.argv[2], sys.argv[3], sys.argv[4].encode(), float(sys.argv[5]),
               float(sys.argv[6]))
    else:
        sys.exit(__doc__)
