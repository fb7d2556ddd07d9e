"""Load a processor's inputs once per block of dates and slice them per date.

On BigQuery every statement costs seconds, so the loader reads each input table once for
a whole block (typically a season) with a partition-filtered query, normalizes it once,
and hands each date a slice that satisfies the InputSpec window.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nba_backfill.dates import season_of, season_start
from nba_backfill.engine.plan import Calendar, phase3_gaps
from nba_backfill.engine.status import partition_counts
from nba_backfill.errors import EnvironmentProblem
from nba_backfill.frames import NORMALIZED_ATTR, normalize_frame
from nba_backfill.processor import InputSpec, ProcessorSpec
from nba_backfill.tables import TABLES, TableSpec
from nba_backfill.warehouse.base import Warehouse

SCHEDULE = "nba_raw.nbac_schedule"
PHASE3_TABLES = ("nba_analytics.player_game_summary", "nba_analytics.team_offense_game_summary",
                 "nba_analytics.team_defense_game_summary")


def load_calendar(warehouse: Warehouse, start: dt.date, end: dt.date) -> Calendar:
    """Final-game dates and opening nights of the seasons of [start, end], from one schedule query."""
    if not warehouse.table_exists(SCHEDULE):
        raise EnvironmentProblem(f"table {SCHEDULE} is missing: load data first (`nba-backfill sample load`)")
    sql = ("SELECT game_id, game_date, season_year, game_status, is_regular_season, is_playoffs, "
           f"home_team_tricode, away_team_tricode FROM {SCHEDULE} WHERE game_date BETWEEN @lo AND @hi")
    frame = normalize_frame(warehouse.query(sql, {"lo": season_start(season_of(start)), "hi": end}), TABLES[SCHEDULE])
    return Calendar.from_schedule(frame, list(range(season_of(start), season_of(end) + 1)))


def load_phase3_gaps(warehouse: Warehouse, cal: Calendar, start: dt.date, end: dt.date) -> dict[dt.date, list[str]]:
    """Final-game dates in the same-season lookback of [start, end] without rows in a Phase 3 table
    (the pre-flight of engine spec §3.3): one grouped query per table."""
    lo = season_start(season_of(start))
    present = {name: set(partition_counts(warehouse, name, "game_date", lo, end)) for name in PHASE3_TABLES}
    return phase3_gaps([d for d in cal.game_dates if lo <= d < end], present)


def window_bounds(spec: InputSpec, day: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """Inclusive partition bounds of an input for date D (None = unbounded)."""
    if spec.window == "same_date":
        return day, day
    if spec.window == "season_to_date":
        return season_start(season_of(day)), day
    if spec.window == "previous_season_to_date":
        return season_start(season_of(day) - 1), day
    if spec.window == "days_back":
        return day - dt.timedelta(days=spec.days), day
    return None, None


def select_sql(table: TableSpec, columns: Sequence[str] | None, bounded: bool) -> str:
    """BigQuery SQL reading `columns` of `table`, partition-filtered when `bounded`."""
    cols = ", ".join(columns or table.column_names)
    sql = f"SELECT {cols} FROM {table.name}"
    if bounded and table.partition and not table.partition_is_range:
        sql += f" WHERE {table.partition} BETWEEN @lo AND @hi"
    return sql


def block_queries(processor: ProcessorSpec, days: Sequence[dt.date]) -> list[tuple[str, dict | None]]:
    """The SELECTs BlockInputs issues for a block of days (for dry runs and cost estimates)."""
    out: list[tuple[str, dict | None]] = []
    first, last = min(days), max(days)
    for spec in processor.inputs:
        table = TABLES[spec.table]
        lo, _ = window_bounds(spec, first)
        _, hi = window_bounds(spec, last)
        bounded = lo is not None and table.partition is not None and not table.partition_is_range
        out.append((select_sql(table, spec.columns, bounded), {"lo": lo, "hi": hi} if bounded else None))
    return out


@dataclass
class _Loaded:
    spec: InputSpec
    table: TableSpec
    frame: pd.DataFrame
    keys: np.ndarray | None  # sorted partition values (datetime64[ns]) or None when unpartitioned


class BlockInputs:
    """A processor's inputs for a block of dates, read with one query per input table."""

    def __init__(self, warehouse: Warehouse, processor: ProcessorSpec, days: Sequence[dt.date]) -> None:
        self._loaded: list[_Loaded] = []
        for spec, (sql, params) in zip(processor.inputs, block_queries(processor, days)):
            table = TABLES[spec.table]
            bounded = params is not None
            if not warehouse.table_exists(table.name):
                frame = normalize_frame(pd.DataFrame(), table)
            else:
                frame = normalize_frame(warehouse.query(sql, params), table)
            keys = None
            if bounded:
                frame = frame.sort_values(table.partition, kind="mergesort").reset_index(drop=True)
                keys = frame[table.partition].to_numpy(dtype="datetime64[ns]")
            frame.attrs[NORMALIZED_ATTR] = table.name
            self._loaded.append(_Loaded(spec, table, frame, keys))

    def for_date(self, day: dt.date) -> dict[str, pd.DataFrame]:
        """The inputs of date D: each table sliced to its window (views of the block frames)."""
        out: dict[str, pd.DataFrame] = {}
        for item in self._loaded:
            lo, hi = window_bounds(item.spec, day)
            frame = item.frame
            if item.keys is not None and lo is not None and hi is not None:
                a = np.searchsorted(item.keys, np.datetime64(lo, "ns"), side="left")
                b = np.searchsorted(item.keys, np.datetime64(hi, "ns"), side="right")
                frame = frame.iloc[a:b]
                frame.attrs[NORMALIZED_ATTR] = item.table.name
            if item.spec.table in out:
                out[item.spec.table] = pd.concat([out[item.spec.table], frame]).drop_duplicates()
            else:
                out[item.spec.table] = frame
        return out
