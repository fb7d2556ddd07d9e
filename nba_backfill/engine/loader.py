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


#: Windows whose lower bound is the same for every block of a season (one read can serve them all).
SHARED_WINDOWS = ("season_to_date", "previous_season_to_date", "all")


def _read(warehouse: Warehouse, table: TableSpec, columns: Sequence[str] | None,
          bounds: tuple[dt.date, dt.date] | None, exists: bool | None = None) -> tuple[pd.DataFrame, np.ndarray | None]:
    """`columns` of `table` normalized (only those columns), sorted by partition when `bounds` filter it."""
    if not (warehouse.table_exists(table.name) if exists is None else exists):
        frame = normalize_frame(pd.DataFrame(), table, columns=columns)
    else:
        params = None if bounds is None else {"lo": bounds[0], "hi": bounds[1]}
        frame = normalize_frame(warehouse.query(select_sql(table, columns, bounds is not None), params), table, columns=columns)
    if bounds is None:
        return frame, None
    frame = frame.sort_values(table.partition, kind="mergesort").reset_index(drop=True)
    return frame, frame[table.partition].to_numpy(dtype="datetime64[ns]")


class InputCache:
    """Normalized reads of the tables a run only reads, shared by all its processors and blocks.

    Phase 3 and raw tables are not written by the processors of a run, yet several
    processors read the same season-to-date history once per block. The first block that
    needs (table, window start) reads it through the last run date of that season, with
    the union of the columns the run's processors declare; every later block of any
    processor takes its declared columns of the same sorted frame and slices it per date
    (the slices hold exactly the rows a per-block read would, in the same order).
    """

    def __init__(self, warehouse: Warehouse, processors: Sequence[ProcessorSpec], days: Sequence[dt.date],
                 written: Sequence[str]) -> None:
        self.warehouse = warehouse
        self._columns: dict[str, set[str] | None] = {}
        for proc in processors:
            for spec in proc.inputs:
                if spec.table in written or spec.window not in SHARED_WINDOWS:
                    continue
                have = self._columns.get(spec.table, set())
                self._columns[spec.table] = None if have is None or spec.columns is None else have | set(spec.columns)
        self._last: dict[int, dt.date] = {}
        for day in days:
            self._last[season_of(day)] = max(day, self._last.get(season_of(day), day))
        self._frames: dict[tuple[str, dt.date | None], tuple[dt.date | None, pd.DataFrame, np.ndarray | None]] = {}
        self._views: dict[tuple[str, dt.date | None, tuple[str, ...] | None], tuple[dt.date | None, pd.DataFrame]] = {}
        self._existing: set[str] = set()

    def table_exists(self, name: str) -> bool:
        """Whether a table exists; a table seen once is not looked up again (a run never drops tables)."""
        if name not in self._existing and self.warehouse.table_exists(name):
            self._existing.add(name)
        return name in self._existing

    def serves(self, spec: InputSpec) -> bool:
        return spec.table in self._columns and spec.window in SHARED_WINDOWS

    def _needs_read(self, spec: InputSpec, lo: dt.date | None, hi: dt.date | None
                    ) -> tuple[tuple[str, dt.date | None], bool, list[str] | None, tuple[dt.date, dt.date] | None]:
        """(cache key, read needed, columns, bounds): the read `get` must issue first, if the cached
        frame does not cover [lo, hi] yet; the dry run plans with the same decision."""
        table = TABLES[spec.table]
        bounded = lo is not None and hi is not None and table.partition is not None and not table.partition_is_range
        key = (spec.table, lo if bounded else None)
        loaded = self._frames.get(key)
        if loaded is not None and not (bounded and loaded[0] < hi):  # type: ignore[operator]
            return key, False, None, None
        union = self._columns[spec.table]
        columns = None if union is None else [c for c in table.column_names if c in union]
        bounds = (lo, max(hi, self._last.get(season_of(hi), hi))) if bounded else None  # type: ignore[arg-type]
        return key, True, columns, bounds

    def plan(self, spec: InputSpec, lo: dt.date | None, hi: dt.date | None) -> tuple[str, dict | None] | None:
        """The query `get(spec, lo, hi)` would issue at this point of a run (None: served from the cache),
        recorded as if it had been read."""
        key, needed, columns, bounds = self._needs_read(spec, lo, hi)
        if not needed:
            return None
        self._frames[key] = (bounds[1] if bounds else None, pd.DataFrame(), None)
        table = TABLES[spec.table]
        return select_sql(table, columns, bounds is not None), None if bounds is None else {"lo": bounds[0], "hi": bounds[1]}

    def get(self, spec: InputSpec, lo: dt.date | None, hi: dt.date | None) -> tuple[pd.DataFrame, np.ndarray | None]:
        """`spec`'s declared columns of its table from `lo` through at least `hi`, sorted by partition."""
        table = TABLES[spec.table]
        key, needed, columns, bounds = self._needs_read(spec, lo, hi)
        if needed:
            frame, keys = _read(self.warehouse, table, columns, bounds, self.table_exists(table.name))
            self._frames[key] = (bounds[1] if bounds else None, frame, keys)
        loaded = self._frames[key]
        view_key = (*key, spec.columns)
        view = self._views.get(view_key)
        if view is None or view[0] != loaded[0]:
            frame = loaded[1] if spec.columns is None else loaded[1][list(spec.columns)]
            frame.attrs = {}
            view = (loaded[0], frame)
            self._views[view_key] = view
        return view[1], loaded[2]


def block_reads(processor: ProcessorSpec, days: Sequence[dt.date], cache: InputCache | None) -> list[tuple[str, dict | None]]:
    """The input queries `BlockInputs(…, processor, days, cache)` issues at this point of a run
    (dry runs and cost estimates); with a cache, planning records its reads as made."""
    out: list[tuple[str, dict | None]] = []
    for spec, query in zip(processor.inputs, block_queries(processor, days)):
        if cache is not None and cache.serves(spec):
            lo, _ = window_bounds(spec, min(days))
            _, hi = window_bounds(spec, max(days))
            planned = cache.plan(spec, lo, hi)
            if planned is not None:
                out.append(planned)
        else:
            out.append(query)
    return out


class BlockInputs:
    """A processor's inputs for a block of dates, read with one query per input table.

    Block frames hold exactly the declared columns, already normalized, so a processor's
    `read_declared` takes each date's slice as it is. With an InputCache, tables the run
    does not write come from the cache instead of a query per block.
    """

    def __init__(self, warehouse: Warehouse, processor: ProcessorSpec, days: Sequence[dt.date],
                 cache: InputCache | None = None) -> None:
        self._loaded: list[_Loaded] = []
        for spec, (_, params) in zip(processor.inputs, block_queries(processor, days)):
            table = TABLES[spec.table]
            if cache is not None and cache.serves(spec):
                lo, _ = window_bounds(spec, min(days))
                _, hi = window_bounds(spec, max(days))
                frame, keys = cache.get(spec, lo, hi)
            else:
                bounds = None if params is None else (params["lo"], params["hi"])
                frame, keys = _read(warehouse, table, spec.columns, bounds,
                                    None if cache is None else cache.table_exists(table.name))
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
