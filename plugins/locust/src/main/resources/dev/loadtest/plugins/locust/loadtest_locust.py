# The locustfile Locust runs on a loadtest generator: it loads the user's locustfile (LOADTEST_LOCUSTFILE), so that
# Locust finds its User classes and event hooks as usual, and streams every request event to the generator as a
# JSON line over a socket on 127.0.0.1 (LOADTEST_SAMPLES_PORT), as it happens, plus the running user count once a
# second. Shipped with the loadtest locust plug-in; not meant to be edited.
import importlib.util
import json
import math
import os
import socket
import sys
import time

import gevent
from fractions import Fraction
from locust import LoadTestShape, events

_path = os.path.abspath(os.environ["LOADTEST_LOCUSTFILE"])
sys.path.insert(0, os.path.dirname(_path))
_spec = importlib.util.spec_from_file_location("locustfile", _path)
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
globals().update({k: v for k, v in vars(_module).items() if not k.startswith("__")})

# This generator's execution segment of the run: a LoadTestShape's users (it sets the whole run's) become this
# generator's part of them, the parts of all generators adding up to the shape's users exactly.
_from = Fraction(os.environ.get("LOADTEST_SEGMENT_FROM", "0"))
_to = Fraction(os.environ.get("LOADTEST_SEGMENT_TO", "1"))


def _share(users):
    return math.floor(users * _to) - math.floor(users * _from)


def _scaled_tick(tick):
    def scaled(self):
        r = tick(self)
        if r is None:
            return None
        return (_share(r[0]), max(float(r[1]) * float(_to - _from), 0.001)) + tuple(r[2:])
    return scaled


for _shape in [v for v in vars(_module).values()
               if isinstance(v, type) and issubclass(v, LoadTestShape) and v is not LoadTestShape]:
    _shape.tick = _scaled_tick(_shape.tick)

_socket = socket.create_connection(("127.0.0.1", int(os.environ["LOADTEST_SAMPLES_PORT"])))
_out = _socket.makefile("w", encoding="utf-8", buffering=1 << 16)
_flushed = [time.monotonic()]


@events.request.add_listener
def _loadtest_request(request_type, name, response_time, response_length, response=None, context=None,
                      exception=None, start_time=None, url=None, **kwargs):
    status = getattr(response, "status_code", 0) or 0
    started = start_time if start_time is not None else time.time() - (response_time or 0) / 1000.0
    record = {"t": started, "m": str(request_type), "n": str(name), "rt": response_time or 0,
              "b": response_length or 0, "s": status}
    if exception is not None:
        record["e"] = (type(exception).__name__ + ": " + str(exception))[:300]
    _out.write(json.dumps(record, separators=(",", ":")) + "\n")
    now = time.monotonic()
    if now - _flushed[0] >= 0.1:  # requests reach the generator within 100 ms, in a write per 100 ms at most
        _out.flush()
        _flushed[0] = now


def _users(environment):
    while True:
        runner = environment.runner
        _out.write('{"users":%d}\n' % (runner.user_count if runner is not None else 0))
        _out.flush()
        gevent.sleep(1)


@events.test_start.add_listener
def _loadtest_test_start(environment, **kwargs):
    _out.write('{"started":true}\n')
    _out.flush()


@events.init.add_listener
def _loadtest_init(environment, **kwargs):
    gevent.spawn(_users, environment)


@events.quitting.add_listener
def _loadtest_quitting(environment, **kwargs):
    _out.flush()
