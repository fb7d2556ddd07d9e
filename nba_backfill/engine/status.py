"""Read-only views of the ledger and outputs: the coverage matrix and the failures list."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from nba_backfill.dates import season_of
from nba_backfill.engine.ledger import RETRY_STATES, Ledger
from nba_backfill.errors import EnvironmentProblem
from nba_backfill.registry import Registry, default_registry
from nba_backfill.warehouse.base import Warehouse


@dataclass
class Coverage:
    """State and row count per (processor, game date), plus totals per processor and season."""

    processors: list[str]
    dates: list[dt.date]
    cells: dict[tuple[str, dt.date], tuple[str, int]] = field(default_factory=dict)

    def totals(self) -> dict[tuple[str, int], Counter]:
        out: dict[tuple[str, int], Counter] = {}
        for (proc, day), (state, _) in self.cells.items():
            out.setdefault((proc, season_of(day)), Counter())[state] += 1
        return out

    def as_dict(self) -> dict:
        return {
            "processors": self.processors,
            "dates": [d.isoformat() for d in self.dates],
            "cells": [{"processor": p, "date": d.isoformat(), "state": s, "rows": n} for (p, d), (s, n) in sorted(self.cells.items())],
            "totals": [{"processor": p, "season": s, "states": dict(c)} for (p, s), c in sorted(self.totals().items())],
        }


def partition_counts(warehouse: Warehouse, table_name: str, date_column: str, start: dt.date, end: dt.date) -> dict[dt.date, int]:
    """Rows per partition of an output table between start and end (one grouped query)."""
    if not warehouse.table_exists(table_name):
        return {}
    df = warehouse.query(
        f"SELECT {date_column} AS d, COUNT(*) AS n FROM {table_name} WHERE {date_column} BETWEEN @lo AND @hi GROUP BY {date_column}",
        {"lo": start, "hi": end},
    )
    return {pd.Timestamp(d).date(): int(n) for d, n in zip(df["d"], df["n"])}


def game_dates(warehouse: Warehouse, start: dt.date, end: dt.date) -> list[dt.date]:
    """Dates with at least one final regular-season or playoff game."""
    if not warehouse.table_exists("nba_raw.nbac_schedule"):
        raise EnvironmentProblem("table nba_raw.nbac_schedule is missing: load data first (`nba-backfill sample load`)")
    df = warehouse.query(
        "SELECT DISTINCT game_date FROM nba_raw.nbac_schedule WHERE game_date BETWEEN @lo AND @hi "
        "AND game_status = 3 AND (COALESCE(is_regular_season, FALSE) OR COALESCE(is_playoffs, FALSE))",
        {"lo": start, "hi": end},
    )
    return sorted(pd.Timestamp(d).date() for d in df["game_date"])


def coverage(warehouse: Warehouse, start: dt.date, end: dt.date, registry: Registry | None = None) -> Coverage:
    registry = registry or default_registry()
    procs = registry.names()
    dates = game_dates(warehouse, start, end)
    latest = Ledger(warehouse).latest(procs, start, end) if warehouse.table_exists("nba_backfill.units") else {}
    cov = Coverage(procs, dates)
    for proc in procs:
        spec = registry.get(proc)
        counts = partition_counts(warehouse, spec.output_table, spec.date_column, start, end)
        for day in dates:
            unit = latest.get((proc, day))
            state = unit.state if unit else ("ROWS_NO_LEDGER" if counts.get(day) else "MISSING")
            cov.cells[(proc, day)] = (state, counts.get(day, 0))
    return cov


def failures(warehouse: Warehouse, run_id: str | None = None) -> dict:
    """Latest unit per (processor, date) in a not-done state, with retry commands (from the failures view)."""
    if not warehouse.table_exists("nba_backfill.units"):
        return {"failures": [], "retry_commands": []}
    sql = ("SELECT processor, unit_date, state, reason, error_class, error_message, attempt, run_id "
           "FROM nba_backfill.failures")
    params = None
    if run_id:
        sql += " WHERE run_id = @run_id"
        params = {"run_id": run_id}
    df = warehouse.query(sql + " ORDER BY processor, unit_date", params)
    registry = default_registry()
    rows = []
    by_proc: dict[str, list[str]] = {}
    for r in df.itertuples(index=False):
        day = pd.Timestamp(r.unit_date).date().isoformat()
        rows.append({"processor": r.processor, "date": day, "state": r.state, "reason": _s(r.reason),
                     "error_class": _s(r.error_class), "error_message": _s(r.error_message),
                     "attempt": None if pd.isna(r.attempt) else int(r.attempt), "run_id": r.run_id})
        if r.state in RETRY_STATES and r.state != "NO_SOURCE_DATA":
            by_proc.setdefault(r.processor, []).append(day)
    commands = []
    for proc in registry.ordered(by_proc):
        spec = registry.get(proc)
        dates = ",".join(by_proc[proc])
        commands.append(f"nba-backfill phase{spec.phase} run --processor {proc} --dates {dates}")
        commands.append(f"python {spec.wrapper} --dates {dates}")
    return {"failures": rows, "retry_commands": commands}


def _s(value: object) -> str | None:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
