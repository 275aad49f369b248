"""Rate limits: sign-in attempts per client address, API calls per partner agent and per kiosk.

Counters live in the `limits` library's storage (RATELIMIT_STORAGE_URI): memory:// keeps them in
each process, so under gunicorn every worker counts on its own (a limit of N is at most N times
the number of workers); redis:// or memcached:// share one count between all workers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import wraps

from flask import Flask, Response, current_app, g, jsonify
from limits import RateLimitItem, parse, storage, strategies

from recovery.errors import DomainError
from recovery.ops import logs

_KEY = "recovery.ratelimit"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def _limiter() -> strategies.RateLimiter:
    return current_app.extensions[_KEY]


def _limit(setting: str) -> RateLimitItem:
    return parse(current_app.config[setting])


def retry_after(setting: str, key: str) -> int | None:
    """Count one call for `key` against the limit named by `setting`; seconds to wait when over it, else None."""
    limit = _limit(setting)
    if _limiter().hit(limit, key):
        return None
    reset = _limiter().get_window_stats(limit, key).reset_time
    return max(1, math.ceil(reset - time.time()))


def per_caller(attribute: str, setting: str) -> Callable[[Callable], Callable]:
    """A decorator limiting calls per authenticated caller (`g.<attribute>`, set by the signature check).

    It sits inside the signature check: only a caller who signed the request spends its own allowance,
    so nobody can use up an agent's limit by sending requests in its name.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            code = getattr(g, attribute).code
            logs.identify(f"{attribute}:{code}")
            wait = retry_after(setting, f"{attribute}:{code}")
            if wait is not None:
                raise RateLimited(f"too many requests from {attribute} {code}: at most {current_app.config[setting]}; "
                                  f"retry in {wait} s", retry_after=wait)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def _too_many(err: RateLimited) -> tuple[Response, int]:
    response = jsonify(status=err.status, code=err.code, message=err.message)
    response.headers["Retry-After"] = str(err.retry_after)
    return response, err.status


class WorkerMemoryStorage(storage.MemoryStorage):
    """The `limits` memory storage without its expiry timer, for the fixed window used here.

    The library's storage restarts a 10 ms timer thread on every counted call once the previous one has
    fired, which on a busy API costs a thread start per request (most of a signed posting's time). A fixed
    window needs no timer: a counter is dropped when it is read after its expiry (`get`), and the ones nobody
    reads again are swept at most once every SWEEP_SECONDS, by the call that finds the sweep due.
    """

    SWEEP_SECONDS = 60.0

    def __init__(self, uri: str | None = None, **options: str) -> None:
        super().__init__(uri, **options)
        self.timer.cancel()
        self._swept = time.monotonic()

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        if time.monotonic() - self._swept >= self.SWEEP_SECONDS:
            self._swept = time.monotonic()
            for stale in [k for k, at in list(self.expirations.items()) if at <= time.time()]:
                self.get(stale)
        self.get(key)
        with self.locks[key]:
            self.storage[key] += amount
            if self.storage[key] == amount:
                self.expirations[key] = time.time() + expiry
        return self.storage.get(key, 0)


def init_app(app: Flask) -> None:
    uri = app.config["RATELIMIT_STORAGE_URI"]
    counters = WorkerMemoryStorage(uri) if uri.startswith("memory://") else storage.storage_from_string(uri)
    app.extensions[_KEY] = strategies.FixedWindowRateLimiter(counters)
    # More specific than the DomainError handler: the same JSON shape, plus Retry-After.
    app.register_error_handler(RateLimited, _too_many)
