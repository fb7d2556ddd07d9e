"""Commit a processor's consecutive units in one atomic write, verify it, and report each unit."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd

from nba_backfill.engine.summary import UnitOutcome
from nba_backfill.errors import WarehouseError
from nba_backfill.processor import ProcessorResult, ProcessorSpec
from nba_backfill.tables import TABLES
from nba_backfill.warehouse.base import Warehouse

Done = Callable[[UnitOutcome, "ProcessorResult | None"], None]


class BatchWriter:
    """Collects written units of one processor and commits up to `size` dates in one transaction.

    Each unit is reported through `done` only after the commit (its ledger row follows the
    data); a warehouse error fails the whole batch's units and the run goes on.
    """

    def __init__(self, warehouse: Warehouse, spec: ProcessorSpec, size: int, done: Done, flush: Callable[[], None]) -> None:
        self.warehouse, self.spec, self.size, self.done, self.flush = warehouse, spec, size, done, flush
        self.items: list[tuple[UnitOutcome, pd.DataFrame, ProcessorResult]] = []

    def add(self, outcome: UnitOutcome, rows: pd.DataFrame, result: ProcessorResult) -> None:
        self.items.append((outcome, rows, result))
        if len(self.items) >= self.size:
            self.commit()

    def commit(self) -> None:
        if not self.items:
            return
        table = TABLES[self.spec.output_table]
        days = [o.day for o, _, _ in self.items]
        frames = [r for _, r, _ in self.items if len(r)]
        rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=table.column_names)
        try:
            self.warehouse.replace_partitions(table, days, rows)
            counts: dict[dt.date, int] | None = self._written_counts(days)
        except WarehouseError as exc:  # the batch rolled back: its units fail, the run goes on
            counts, error = None, exc
        for outcome, produced, result in self.items:
            if counts is None:
                failed = warehouse_failure(outcome.processor, outcome.day, error, f"writing {table.name}")
                outcome.state, outcome.reason, outcome.rows = failed.state, failed.reason, 0
                outcome.error_class, outcome.error_message = failed.error_class, failed.error_message
                self.done(outcome, None)
                continue
            found = counts.get(outcome.day, 0)
            if found != len(produced):
                outcome.state, outcome.reason = "DEGRADED", f"post-write check: {found} rows in the partition, {len(produced)} produced"
            self.done(outcome, result)
        self.flush()
        self.items.clear()

    def _written_counts(self, days: list[dt.date]) -> dict[dt.date, int]:
        col = self.spec.date_column
        df = self.warehouse.query(
            f"SELECT {col} AS d, COUNT(*) AS n FROM {self.spec.output_table} WHERE {col} BETWEEN @lo AND @hi GROUP BY {col}",
            {"lo": min(days), "hi": max(days)},
        )
        return {pd.Timestamp(d).date(): int(n) for d, n in zip(df["d"], df["n"])}


def warehouse_failure(processor: str, day: dt.date, exc: WarehouseError, doing: str) -> UnitOutcome:
    """A unit failed by the warehouse (after the backend's own retries), recorded like a processor failure."""
    message = " ".join(str(exc).split()) or type(exc).__name__
    return UnitOutcome(processor, day, "FAILED", f"{doing}: {message}"[:600], error_class=type(exc).__name__,
                       error_message=str(exc)[:2000])
