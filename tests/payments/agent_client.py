"""Signing requests as a partner agent's system would (contracts.md), for tests and benchmarks."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from recovery.payments.channels.agents import sign


def signed_headers(agent: str, secret: str, method: str, path: str, body: bytes, key: str = "",
                   timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    headers = {"X-Agent-Id": agent, "X-Timestamp": ts, "X-Signature": sign(secret, method, path, ts, key, body),
               "Content-Type": "application/json"}
    if method == "POST":
        headers["Idempotency-Key"] = key
    return headers


# Read once: the same payment sent twice is the same body (a retry), whichever second each send falls in.
_JUST_NOW = (dt.datetime.now(dt.timezone(dt.timedelta(hours=8))) - dt.timedelta(minutes=1)).isoformat(
    timespec="seconds")


def just_now() -> str:
    """A payment collected a moment ago (when the tests started), as an agent's system stamps it."""
    return _JUST_NOW


def payment_body(customer_id: str = "C1", amount: str = "120.50", channel_ref: str = "R-1",
                 paid_at: str | None = None, **extra: Any) -> bytes:
    """A payment as an agent posts it; paid a moment ago unless `paid_at` says otherwise."""
    return json.dumps({"customer_id": customer_id, "amount": amount, "channel_ref": channel_ref,
                       "paid_at": paid_at or just_now(), **extra}).encode()
