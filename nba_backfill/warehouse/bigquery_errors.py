"""Driver errors of google-cloud-bigquery mapped to the tool's errors, and the retry loop for transient ones.

This is the one place that inspects BigQuery exceptions (status, reasons, message text).
The backend retries transient errors itself, with exponential backoff and jitter up to a
deadline, and turns the client's own retries off, so the policy is one visible object.
"""
from __future__ import annotations

import concurrent.futures
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import requests
from google.api_core import exceptions as gexc
from google.auth import exceptions as auth_exc

from nba_backfill.errors import (
    EnvironmentProblem,
    TableNotFound,
    TerminalWarehouseError,
    TransientWarehouseError,
    WarehouseError,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Error reasons BigQuery documents as worth retrying.
TRANSIENT_REASONS = frozenset({"rateLimitExceeded", "backendError", "internalError", "badGateway",
                               "jobBackendError", "jobInternalError", "timeout"})
#: Message fragments of transaction conflicts (reason is only "invalidQuery" there).
TRANSIENT_MESSAGES = ("could not serialize access", "concurrent update")
#: Message fragments of a dataset/job location mismatch ("... was not found in location EU",
#: "Cannot read and write in different locations: source: US, destination: EU").
LOCATION_MESSAGES = ("in location", "location mismatch", "different locations")
#: Exceptions the driver raises; anything else is a bug and propagates untouched.
DRIVER_ERRORS: tuple[type[BaseException], ...] = (
    gexc.GoogleAPIError, requests.RequestException, concurrent.futures.TimeoutError, auth_exc.TransportError,
)
#: What building a client can raise (no default credentials, among others).
SETUP_ERRORS: tuple[type[BaseException], ...] = DRIVER_ERRORS + (auth_exc.GoogleAuthError,)


def reasons(exc: BaseException) -> set[str]:
    """The `reason` of every error detail an API exception carries."""
    details = getattr(exc, "errors", None) or []
    return {d.get("reason", "") for d in details if isinstance(d, dict)}


def map_error(exc: BaseException, what: str) -> WarehouseError | EnvironmentProblem:
    """The nba_backfill error for a driver exception raised while doing `what`."""
    message = f"BigQuery {what} failed: {getattr(exc, 'message', None) or exc}"
    text = str(getattr(exc, "message", None) or exc).lower()
    found = reasons(exc)
    if isinstance(exc, auth_exc.DefaultCredentialsError):
        return EnvironmentProblem(f"BigQuery {what}: no credentials (run `gcloud auth application-default login`)")
    if isinstance(exc, (requests.RequestException, concurrent.futures.TimeoutError, auth_exc.TransportError,
                        gexc.RetryError, gexc.DeadlineExceeded)):
        return TransientWarehouseError(message)
    if (found & TRANSIENT_REASONS or any(m in text for m in TRANSIENT_MESSAGES)
            or isinstance(exc, (gexc.TooManyRequests, gexc.ServerError))):
        return TransientWarehouseError(message)
    if any(m in text for m in LOCATION_MESSAGES):
        return TerminalWarehouseError(message + " (check the warehouse URL's location=)")
    if isinstance(exc, gexc.NotFound) or "notFound" in found:
        return TableNotFound(message)
    return TerminalWarehouseError(message)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter for transient errors, bounded by a total deadline (seconds)."""

    initial: float = 1.0
    multiplier: float = 2.0
    maximum: float = 16.0
    deadline: float = 120.0
    #: Fraction of each delay that is randomized (0 = none, 1 = full jitter).
    jitter: float = 0.5
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """The pause before retry number `attempt` (0-based)."""
        base = min(self.maximum, self.initial * self.multiplier**attempt)
        return base * (1 - self.jitter) + base * self.jitter * (rng or random).random()


def with_retry(policy: RetryPolicy, what: str, call: Callable[[], T]) -> T:
    """Run `call`, retrying transient driver errors; every driver error leaves as an nba_backfill error."""
    start = time.monotonic()
    attempt, slept = 0, 0.0
    while True:
        try:
            return call()
        except DRIVER_ERRORS as exc:
            error = map_error(exc, what)
            pause = policy.delay(attempt)
            spent = max(time.monotonic() - start, slept)  # `slept` counts when `sleep` is a test double
            if not isinstance(error, TransientWarehouseError) or spent + pause > policy.deadline:
                raise error from exc
            log.warning("%s; retry %d in %.2fs", error, attempt + 1, pause)
            policy.sleep(pause)
            attempt, slept = attempt + 1, slept + pause
