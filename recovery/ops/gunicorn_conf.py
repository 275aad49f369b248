"""gunicorn's settings for the web workers: `gunicorn -c python:recovery.ops.gunicorn_conf wsgi:app`.

Environment: RECOVERY_BIND (default 0.0.0.0:8000), WEB_CONCURRENCY (workers, default 4),
PROMETHEUS_MULTIPROC_DIR (metrics shared by all workers; see docs/operations.md).
"""

from __future__ import annotations

import os
from typing import Any

bind = os.environ.get("RECOVERY_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
# The application logs every request itself, as a JSON line with its request id.
accesslog = None
# Agents retry on timeouts; a request that has not finished in this time is not going to.
timeout = int(os.environ.get("RECOVERY_WORKER_TIMEOUT", "60"))


def child_exit(server: object, worker: Any) -> None:
    """A worker that exits leaves its counters behind (they still count) but not its live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
