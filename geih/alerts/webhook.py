"""Deliver alerts to a webhook: one JSON POST, signed, with a timeout and retries.

Signature: header `X-GEIH-Signature: sha256=<hex>`, the HMAC-SHA256 of the exact body bytes with the shared
secret (`--webhook-secret`, else the GEIH_WEBHOOK_SECRET environment variable); the receiver recomputes it
over the raw body and compares in constant time. Without a secret the POST goes unsigned (a warning says so).

Retries: a connection error, a timeout, HTTP 429 or any 5xx is retried up to `retries` more times, waiting
`backoff_s`, 2×, 4×… between attempts; any other status ≥ 300 fails at once (retrying would not help).
The alert file is always written before delivery is attempted; a failed delivery is reported by the caller.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlparse

from geih.errors import GeihError

log = logging.getLogger(__name__)

SECRET_ENV = "GEIH_WEBHOOK_SECRET"
SIGNATURE_HEADER = "X-GEIH-Signature"
RETRY_STATUSES = frozenset({429}) | frozenset(range(500, 600))


@dataclass(frozen=True)
class Webhook:
    """Where and how to POST: `url` (http/https), `secret` (None: unsigned), per-attempt `timeout_s`,
    `retries` after the first attempt, first wait `backoff_s` (doubled after each retry)."""

    url: str
    secret: str | None = None
    timeout_s: float = 10.0
    retries: int = 3
    backoff_s: float = 1.0

    def __post_init__(self) -> None:
        if urlparse(self.url).scheme not in ("http", "https") or not urlparse(self.url).netloc:
            raise GeihError(f"--webhook {self.url!r}: expected an http:// or https:// URL")
        if self.timeout_s <= 0 or self.retries < 0 or self.backoff_s < 0:
            raise GeihError("webhook timeout must be > 0, retries and backoff ≥ 0")


@dataclass(frozen=True)
class Delivery:
    """The outcome: `ok`, attempts made, last HTTP status (None when no answer) and the last error."""

    ok: bool
    attempts: int
    status: int | None
    error: str | None


def secret_from(given: str | None) -> str | None:
    """The shared secret: the option, else GEIH_WEBHOOK_SECRET, else None."""
    return given or os.environ.get(SECRET_ENV) or None


def signature(body: bytes, secret: str) -> str:
    """`sha256=<hex HMAC-SHA256 of body>`."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, header: str | None) -> bool:
    """Whether a received signature header matches the body (constant-time comparison)."""
    return header is not None and hmac.compare_digest(signature(body, secret), header)


def _attempt(hook: Webhook, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
    """(status, error) of one POST: status None on a connection error or timeout."""
    request = urllib.request.Request(hook.url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=hook.timeout_s) as response:  # noqa: S310 (http/https checked)
            response.read()
            return response.status, None
    except urllib.error.HTTPError as exc:
        exc.read()
        return exc.code, f"HTTP {exc.code} {exc.reason}"
    except TimeoutError:
        return None, f"no answer within {hook.timeout_s:g} s"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):
            return None, f"no answer within {hook.timeout_s:g} s"
        return None, f"connection failed: {reason}"


def deliver(hook: Webhook, body: bytes, sleep: Callable[[float], None] = time.sleep) -> Delivery:
    """POST `body` (JSON) to the webhook with retries and exponential backoff; never raises for delivery
    problems (the Delivery says what happened)."""
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "geih-alerts"}
    if hook.secret:
        headers[SIGNATURE_HEADER] = signature(body, hook.secret)
    else:
        log.warning("webhook %s: no secret given (--webhook-secret or %s): sending unsigned", hook.url, SECRET_ENV)
    status, error = None, None
    for attempt in range(1, hook.retries + 2):
        status, error = _attempt(hook, body, headers)
        if status is not None and 200 <= status < 300:
            return Delivery(True, attempt, status, None)
        retryable = status is None or status in RETRY_STATUSES
        if error is None:
            error = f"HTTP {status}"
        if not retryable or attempt > hook.retries:
            return Delivery(False, attempt, status, error)
        wait = hook.backoff_s * 2 ** (attempt - 1)
        log.warning("webhook %s: attempt %d failed (%s); retrying in %.3g s", hook.url, attempt, error, wait)
        sleep(wait)
    return Delivery(False, hook.retries + 1, status, error)
