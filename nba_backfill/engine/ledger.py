"""The durable run ledger in the warehouse: append-only units, runs and leases (engine spec §5-6)."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import pandas as pd

from nba_backfill.errors import LockHeld
from nba_backfill.tables import TABLES
from nba_backfill.warehouse.base import Warehouse

RUNS, UNITS, LEASES = TABLES["nba_backfill.runs"], TABLES["nba_backfill.units"], TABLES["nba_backfill.leases"]

#: States after which a unit is not re-run unless forced.
DONE_STATES = frozenset({"COMPLETE", "EXPECTED_EMPTY"})
#: States that `--retry-failed` re-runs and the failures view lists.
RETRY_STATES = frozenset({"FAILED", "BLOCKED", "DEGRADED", "NOT_RUN", "STALE", "NO_SOURCE_DATA"})
#: States a downstream unit may read from (DEGRADED with a warning).
READY_STATES = frozenset({"COMPLETE", "EXPECTED_EMPTY", "DEGRADED"})
#: Leases older than this (no heartbeat) may be taken over.
LEASE_TIMEOUT = dt.timedelta(minutes=30)


@dataclass
class UnitRecord:
    """One attempt of one (processor, date) unit, as appended to nba_backfill.units."""

    run_id: str
    processor: str
    unit_date: dt.date
    state: str
    reason: str | None = None
    rows_written: int | None = None
    entities_eligible: int | None = None
    entities_written: int | None = None
    entities_skipped: int | None = None
    duration_ms: int | None = None
    attempt: int = 1
    error_class: str | None = None
    error_message: str | None = None
    upstream_fingerprint: str | None = None
    code_version: str | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LatestUnit:
    """The current state of a unit: its latest ledger row, plus how many attempts it had."""

    state: str
    run_id: str
    rows_written: int | None
    upstream_fingerprint: str | None
    attempts: int
    reason: str | None = None
    error_class: str | None = None
    error_message: str | None = None


def fingerprint(parts: Iterable[tuple[str, str, int | None]]) -> str:
    """First 16 hex of SHA-256 over the sorted `<upstream>|<run_id>|<rows_written>` lines."""
    lines = sorted(f"{u}|{r}|{'' if n is None else int(n)}" for u, r, n in parts)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()[:16]


_LATEST_SQL = """
SELECT processor, unit_date, state, reason, run_id, rows_written, upstream_fingerprint,
       error_class, error_message, attempts
FROM (
  SELECT processor, unit_date, state, reason, run_id, rows_written, upstream_fingerprint,
         error_class, error_message,
         ROW_NUMBER() OVER (PARTITION BY processor, unit_date ORDER BY finished_at DESC, attempt DESC) AS rn,
         COUNT(*) OVER (PARTITION BY processor, unit_date) AS attempts
  FROM nba_backfill.units
  WHERE unit_date BETWEEN @start AND @end AND processor IN UNNEST(@processors)
)
WHERE rn = 1
"""

_LEASES_SQL = """
SELECT processor, run_id, holder, action, heartbeat_at
FROM (
  SELECT processor, run_id, holder, action, heartbeat_at,
         ROW_NUMBER() OVER (PARTITION BY processor ORDER BY heartbeat_at DESC) AS rn
  FROM nba_backfill.leases
  WHERE processor IN UNNEST(@processors)
)
WHERE rn = 1
"""


def _holder_is_dead(holder: str | None) -> bool:
    """True when the lease holder is a process on this host that no longer exists (killed run)."""
    host, _, pid = (holder or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _none(value: Any) -> Any:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


class Ledger:
    """Reads and appends ledger rows through a Warehouse; unit rows are buffered and flushed in batches."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        self._pending: list[UnitRecord] = []

    def ensure(self) -> None:
        """Create the ledger dataset, tables and failures view if missing."""
        self.warehouse.create_tables([RUNS, UNITS, LEASES])

    # ---- units -------------------------------------------------------------
    def latest(self, processors: Sequence[str], start: dt.date, end: dt.date) -> dict[tuple[str, dt.date], LatestUnit]:
        """Current state of every recorded unit of `processors` between start and end."""
        if not processors:
            return {}
        df = self.warehouse.query(_LATEST_SQL, {"start": start, "end": end, "processors": list(processors)})
        out: dict[tuple[str, dt.date], LatestUnit] = {}
        for row in df.itertuples(index=False):
            day = pd.Timestamp(row.unit_date).date()
            out[(row.processor, day)] = LatestUnit(
                state=row.state,
                run_id=row.run_id,
                rows_written=_none(row.rows_written),
                upstream_fingerprint=_none(row.upstream_fingerprint),
                attempts=int(row.attempts),
                reason=_none(row.reason),
                error_class=_none(row.error_class),
                error_message=_none(row.error_message),
            )
        return out

    def add(self, record: UnitRecord) -> None:
        self._pending.append(record)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def flush(self) -> None:
        """Append buffered unit rows in one batch (one load job on BigQuery)."""
        if not self._pending:
            return
        names = [f.name for f in fields(UnitRecord)]  # shallow: asdict deep-copies every value
        frame = pd.DataFrame([{n: getattr(r, n) for n in names} for r in self._pending])
        self.warehouse.append(UNITS, frame)
        self._pending.clear()

    # ---- runs --------------------------------------------------------------
    def record_run(self, row: Mapping[str, Any]) -> None:
        """Append one runs row (a run writes one at start and one at finish)."""
        data = dict(row)
        for key in ("options", "outcome_counts"):
            if key in data and not isinstance(data[key], str) and data[key] is not None:
                data[key] = json.dumps(data[key], sort_keys=True, default=str)
        self.warehouse.append(RUNS, pd.DataFrame([data]))

    # ---- leases ------------------------------------------------------------
    def acquire(self, processors: Sequence[str], run_id: str, holder: str, now: dt.datetime) -> None:
        """Take the lease on each processor, or raise LockHeld naming the live holder."""
        current = self.warehouse.query(_LEASES_SQL, {"processors": list(processors)})
        for row in current.itertuples(index=False):
            beat = pd.Timestamp(row.heartbeat_at)
            beat = beat.tz_localize("UTC") if beat.tzinfo is None else beat
            live = row.action != "release" and row.run_id != run_id and now - beat.to_pydatetime() < LEASE_TIMEOUT
            if live and not _holder_is_dead(row.holder):
                raise LockHeld(
                    f"processor {row.processor} is being written by run {row.run_id} ({row.holder}, "
                    f"heartbeat {beat.isoformat()}); wait for it or let the lease expire after "
                    f"{int(LEASE_TIMEOUT.total_seconds() // 60)} minutes"
                )
        self._lease_rows(processors, run_id, holder, "acquire", now)

    def heartbeat(self, processors: Sequence[str], run_id: str, holder: str, now: dt.datetime) -> None:
        self._lease_rows(processors, run_id, holder, "heartbeat", now)

    def release(self, processors: Sequence[str], run_id: str, holder: str, now: dt.datetime) -> None:
        self._lease_rows(processors, run_id, holder, "release", now)

    def _lease_rows(self, processors: Sequence[str], run_id: str, holder: str, action: str, now: dt.datetime) -> None:
        if processors:
            rows = [
                {"processor": p, "run_id": run_id, "holder": holder, "action": action, "heartbeat_at": now}
                for p in processors
            ]
            self.warehouse.append(LEASES, pd.DataFrame(rows))
