"""gunicorn settings read by `bin/run` (gunicorn loads ./gunicorn.conf.py).

A worker's threads share one interpreter lock. While a thread checks a large
Excel import (CPU-bound Python), a thread serving a sign-in waits for the
lock at each step, up to the switch interval each time (5 ms by default);
1 ms keeps such short requests quick (benchmarks/import_bench.py)."""
import sys


def post_fork(server, worker):
    sys.setswitchinterval(0.001)
