"""Shared Phase 4 conventions (spec phase4-zone-analysis.md Part 1), as pure pandas helpers.

Every Phase 4 processor builds on these: the season and opening night, final games,
bootstrap, leak-free same-season windows with de-duplication, schedule-based
completeness, bookkeeping columns, and rounding + hashing of the finished rows.
Inputs are frames normalized by `nba_backfill.frames` (DATE columns are datetime64).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
import pandas as pd

from nba_backfill.constants import BOOTSTRAP_DAYS, OPENING_NIGHT_FALLBACK, PRODUCTION_READY_PCT
from nba_backfill.dates import season_of
from nba_backfill.processor import ProcessorResult, Skipped
from nba_backfill.rowcheck import contract_problem
from nba_backfill.tables import TableSpec
from nba_backfill.columnar import column_arrays, frame_of_arrays
from nba_backfill.finalize import finalize_columns, finalize_rows
from nba_backfill.values import data_hash_column, round_numeric_columns

# Re-exported: processors use these through `conventions` (one import for the shared rules).
from data_processors.precompute.completeness import (  # noqa: F401
    completeness, completeness_pct, completeness_pct_array, completeness_windows)
from data_processors.precompute.entity_arrays import rank_within
from data_processors.precompute.entity_arrays import (  # noqa: F401
    entity_aggregate, entity_first, entity_latest, entity_ranks, entity_sums, int64_array, rank_in_order, text_column)


def row_seasons(df: pd.DataFrame) -> pd.Series:
    """Season of each row: its season_year, or season(game_date) where that is NULL/absent."""
    if "season_year" in df.columns:
        years = df["season_year"].astype("float64")
        if not years.isna().any():  # nothing to fill: skip the date arithmetic
            return years
        return years.fillna(pd.Series(_date_seasons(df["game_date"]), index=df.index, dtype="float64"))
    return pd.Series(_date_seasons(df["game_date"]), index=df.index, dtype="float64")


def _season_array(df: pd.DataFrame) -> np.ndarray:
    """`row_seasons(df)` as a numpy array, without pandas' cast when season_year is complete float64."""
    if "season_year" in df.columns:
        years = df["season_year"]
        if years.dtype == np.float64:
            values = years.to_numpy()
            if not np.isnan(values).any():
                return values
    return row_seasons(df).to_numpy()


def _date_seasons(dates: pd.Series) -> np.ndarray:
    """season(game_date) per row as float64 (NaN for NaT); numpy calendar fields when possible."""
    if _is_naive_datetime(dates):
        values = dates.to_numpy()
        years = values.astype("datetime64[Y]").astype("int64") + 1970
        months = values.astype("datetime64[M]").astype("int64") % 12 + 1
        out = np.where(months >= 10, years, years - 1).astype("float64")
        out[np.isnat(values)] = np.nan
        return out
    return np.where(dates.dt.month >= 10, dates.dt.year, dates.dt.year - 1).astype("float64")


def _is_naive_datetime(values: pd.Series) -> bool:
    return isinstance(values.dtype, np.dtype) and values.dtype.kind == "M"


def final_games(schedule: pd.DataFrame) -> pd.DataFrame:
    """Schedule rows of final regular-season or playoff games (NULL flags count as FALSE)."""
    is_rs = schedule["is_regular_season"].fillna(False).astype(bool)
    is_po = schedule["is_playoffs"].fillna(False).astype(bool)
    final = schedule["game_status"] == 3
    return schedule[final & (is_rs | is_po)]


def _flag_mask(values: pd.Series) -> np.ndarray | None:
    """`values.fillna(False).astype(bool)` as a numpy mask for boolean dtypes, else None."""
    if isinstance(values.dtype, pd.BooleanDtype):
        return values.to_numpy(dtype=bool, na_value=False)
    if isinstance(values.dtype, np.dtype) and values.dtype.kind == "b":
        return values.to_numpy()
    return None


def opening_night(schedule: pd.DataFrame, season: int) -> dt.date:
    """Earliest regular-season game_date of the season, else the fallback table, else 22 Oct."""
    names = ["is_regular_season", "game_date", "season_year"]
    if schedule.columns.is_unique and set(names) <= set(schedule.columns):  # the same rule on numpy arrays
        flags, dates, years = column_arrays(schedule, names)
        is_rs = _flag_values(flags)
        if is_rs is not None and _naive_datetime_dtype(dates.dtype) and years.dtype == np.float64:
            dates = np.asarray(dates)
            seasons = years if not np.isnan(years).any() else _season_array(schedule)
            return _opening_from(dates[is_rs & (seasons == season) & ~np.isnat(dates)], season)
    is_rs = _flag_mask(schedule["is_regular_season"])
    if is_rs is not None and _is_naive_datetime(schedule["game_date"]):  # the same rule on numpy arrays
        dates = schedule["game_date"].to_numpy()
        return _opening_from(dates[is_rs & (_season_array(schedule) == season) & ~np.isnat(dates)], season)
    rs = schedule[schedule["is_regular_season"].fillna(False).astype(bool)]
    rs = rs[row_seasons(rs) == season] if len(rs) else rs
    if len(rs) and rs["game_date"].notna().any():
        return rs["game_date"].min().date()
    if season in OPENING_NIGHT_FALLBACK:
        return dt.date.fromisoformat(OPENING_NIGHT_FALLBACK[season])
    return dt.date(season, 10, 22)


def _opening_from(picked: np.ndarray, season: int) -> dt.date:
    """opening_night given the season's regular-season dates (datetime64, no NaT)."""
    if len(picked):
        return pd.Timestamp(picked.min()).date()
    if season in OPENING_NIGHT_FALLBACK:
        return dt.date.fromisoformat(OPENING_NIGHT_FALLBACK[season])
    return dt.date(season, 10, 22)


def bootstrap_day(day: dt.date, schedule: pd.DataFrame) -> int | None:
    """k = D - opening night when 0 <= k < BOOTSTRAP_DAYS, else None."""
    k = (day - opening_night(schedule, season_of(day))).days
    return k if 0 <= k < BOOTSTRAP_DAYS else None


def bootstrap_result(day: dt.date, schedule: pd.DataFrame, table: TableSpec) -> ProcessorResult | None:
    """The SKIPPED_BOOTSTRAP result when D is a bootstrap day, else None."""
    k = bootstrap_day(day, schedule)
    if k is None:
        return None
    return ProcessorResult(
        rows=empty_rows(table), outcome="SKIPPED_BOOTSTRAP", reason=f"bootstrap day {k} of season {season_of(day)}"
    )


def empty_rows(table: TableSpec) -> pd.DataFrame:
    """A zero-row output frame with the table's columns (object dtype): a copy of one frame built
    per table, as building it column by column costs more than a whole processor day."""
    cached = _EMPTY.get(id(table))
    if cached is None or cached[0] is not table:
        cached = _EMPTY[id(table)] = (table, pd.DataFrame({c: pd.Series([], dtype="object") for c in table.column_names}))
    return cached[1].copy()


#: Per table (by identity): the table and its zero-row frame, which `empty_rows` copies.
_EMPTY: dict[int, tuple[TableSpec, pd.DataFrame]] = {}


def no_context_result(day: dt.date, schedule: pd.DataFrame, table: TableSpec) -> ProcessorResult:
    """Context-driven processors with no context rows on D (spec §0.3): EXPECTED_EMPTY when the
    schedule has no regular-season or playoff game on D (any status), else FAILED (an upstream gap)."""
    flags = schedule["is_regular_season"].fillna(False).astype(bool) | schedule["is_playoffs"].fillna(False).astype(bool)
    todays = schedule[flags & (schedule["game_date"] == pd.Timestamp(day))]
    games = len(todays[["home_team_tricode", "away_team_tricode"]].drop_duplicates())
    if games == 0:
        return ProcessorResult(rows=empty_rows(table), outcome="EXPECTED_EMPTY", reason=f"no games on {day.isoformat()}")
    reason = (f"no upcoming_player_game_context rows for {day.isoformat()} although the schedule lists "
              f"{games} game(s) on that date")
    return ProcessorResult(rows=empty_rows(table), outcome="FAILED", reason=reason)


def in_season(df: pd.DataFrame, day: dt.date, schedule: pd.DataFrame) -> pd.DataFrame:
    """Rows of season(D) with opening_night <= game_date < D (leak-free, same season)."""
    season = season_of(day)
    start = pd.Timestamp(opening_night(schedule, season))
    if df.empty:
        return df
    dates = df["game_date"]
    if _is_naive_datetime(dates):  # the same mask on numpy arrays
        return df[_season_window(df, season, start, day)]
    mask = (row_seasons(df) == season) & (dates >= start) & (dates < pd.Timestamp(day))
    return df[mask]


def _season_window(df: pd.DataFrame, season: int, start: pd.Timestamp, day: dt.date) -> np.ndarray:
    """The `in_season` mask on numpy arrays (game_date must be naive datetime64)."""
    values = df["game_date"].to_numpy()
    return (_season_array(df) == season) & (values >= start.to_datetime64()) & (values < pd.Timestamp(day).to_datetime64())


def dedup_latest(df: pd.DataFrame, key: str | Sequence[str]) -> pd.DataFrame:
    """One row per (key, game_date): greatest processed_at (NULL oldest), then greatest game_id.

    Only the rows whose (key, game_date) repeats go through the sort; the rest are kept as is.
    The result is the same as sorting everything (ties are resolved within each group only).
    """
    keys = [key] if isinstance(key, str) else list(key)
    if df.empty:
        return df
    if not df.index.is_unique or "_p" in df.columns or "_g" in df.columns:
        return _dedup_sorted(df, keys)  # the general path (also used for the repeated rows)
    repeated = df.duplicated(subset=keys + ["game_date"], keep=False).to_numpy()
    if not repeated.any():
        return df.copy(deep=False) if df.index.is_monotonic_increasing else df.sort_index()
    winners = df.index.get_indexer(_dedup_sorted(df[repeated], keys).index)
    keep = np.concatenate([np.flatnonzero(~repeated), winners])
    if not df.index.is_monotonic_increasing:  # the general path returns index order
        return df.take(keep[np.argsort(df.index.take(keep), kind="stable")])
    return df.take(np.sort(keep))


def _dedup_sorted(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    order = df.assign(
        _p=df["processed_at"].notna() if "processed_at" in df.columns else False,
        _g=df["game_id"].notna() if "game_id" in df.columns else False,
    )
    sort_cols = ["_p"] + (["processed_at"] if "processed_at" in df.columns else []) + ["_g"]
    sort_cols += ["game_id"] if "game_id" in df.columns else []
    order = order.sort_values(sort_cols, ascending=False, na_position="last", kind="mergesort")
    out = order.drop_duplicates(subset=keys + ["game_date"], keep="first")
    return out.drop(columns=["_p", "_g"]).sort_index()


def history(df: pd.DataFrame, key: str, day: dt.date, schedule: pd.DataFrame) -> pd.DataFrame:
    """In-season, de-duplicated rows before D, newest first within each entity."""
    positions = _history_positions(df, key, day, schedule)
    if positions is not None:
        return df.take(positions)
    rows = dedup_latest(in_season(df, day, schedule), key)
    order = _entity_newest_first(rows, key)
    if order is None:
        return rows.sort_values([key, "game_date"], ascending=[True, False], kind="mergesort")
    return rows.take(order)


_INT64_MIN, _INT64_MAX = np.iinfo("int64").min, np.iinfo("int64").max


def _history_positions(df: pd.DataFrame, key: str, day: dt.date, schedule: pd.DataFrame) -> np.ndarray | None:
    """Positions in `df` of the `history` rows, in order, or None for the general path.

    One factorization of the (text) key serves both the de-duplication and the entity sort,
    which is sorted through its few distinct values; the frame is taken once, at the end.
    Same rows and order as in_season -> dedup_latest -> _entity_newest_first.
    """
    if df.empty or key == "game_date" or "_p" in df.columns or "_g" in df.columns:
        return None
    if not _is_naive_datetime(df["game_date"]) or not (df.index.is_unique and df.index.is_monotonic_increasing):
        return None
    season = season_of(day)
    sel = np.flatnonzero(_season_window(df, season, pd.Timestamp(opening_night(schedule, season)), day))
    if not len(sel):
        return None
    try:
        codes, uniques = pd.factorize(df[key].take(sel))
    except TypeError:
        return None
    rank = _text_ranks(uniques)
    if rank is None:
        return None
    ints = df["game_date"].to_numpy().view("int64")[sel]
    date_codes, date_uniques = pd.factorize(ints)
    pair = (codes.astype("int64") + 1) * len(date_uniques) + date_codes  # (key, game_date); NULL key = 0
    if len(rank) * len(date_uniques) <= 4 * len(pair) + 1_000_000:
        repeated = np.bincount(pair)[pair] > 1
    else:
        repeated = pd.Series(pair).duplicated(keep=False).to_numpy()
    keep = np.arange(len(sel))
    if repeated.any():
        winners = df.index.get_indexer(_dedup_sorted(df.take(sel[repeated]), [key]).index)
        keep = np.sort(np.concatenate([keep[~repeated], np.searchsorted(sel, winners)]))
    if not len(date_uniques) or date_uniques.min() == _INT64_MIN:  # NaT: the two-key sort puts it last
        return sel[keep[_newest_first(rank[codes[keep]], ints[keep])]]
    # (entity rank, date rank newest first) as one integer: after de-duplication each appears once,
    # so placing rows by that integer gives the two-key sort's order without sorting
    newest = np.empty(len(date_uniques), dtype="int64")
    newest[np.argsort(date_uniques)[::-1]] = np.arange(len(date_uniques))
    order_key = rank[codes[keep]] * len(date_uniques) + newest[date_codes[keep]]
    return sel[keep[_order_of_distinct(order_key, len(rank) * len(date_uniques))]]


def _order_of_distinct(values: np.ndarray, bound: int) -> np.ndarray:
    """np.argsort(values, kind="stable") for integers in [0, bound), through a lookup table when
    they are distinct and the table small (no sort); a stable sort otherwise."""
    if bound <= 4 * len(values) + 1_000_000:
        slots = np.full(bound, -1, dtype="int64")
        slots[values] = np.arange(len(values))
        order = slots[slots >= 0]
        if len(order) == len(values):  # distinct: every row got its own slot
            return order
    return np.argsort(values, kind="stable")


def _text_ranks(uniques: ArrayLike) -> np.ndarray | None:
    """Sort rank of each factorized text value, then len(uniques) for NULL (code -1 picks the
    last entry): the order of factorize(sort=True). None unless every value is a str."""
    names = np.asarray(uniques, dtype=object)
    if not all(type(v) is str for v in names):
        return None
    rank = np.empty(len(names) + 1, dtype="int64")
    rank[np.argsort(names, kind="stable")] = np.arange(len(names))
    rank[-1] = len(names)
    return rank


def _newest_first(ranks: np.ndarray, date_ints: np.ndarray) -> np.ndarray:
    """Positions sorting by rank, then date descending with NaT last (stable)."""
    return np.lexsort((np.where(date_ints == _INT64_MIN, _INT64_MAX, -date_ints), ranks))


def _entity_newest_first(rows: pd.DataFrame, key: str) -> np.ndarray | None:
    """Positions sorting `rows` by key ascending, game_date descending, NULLs last, stable.

    The same permutation as pandas' multi-column sort_values (factorized codes + np.lexsort),
    with the date order taken from the datetime64 values directly. None: use sort_values.
    """
    dates = rows["game_date"]
    if key == "game_date" or not (isinstance(dates.dtype, np.dtype) and dates.dtype.kind == "M"):
        return None
    try:
        codes, uniques = pd.factorize(rows[key], sort=True)
    except TypeError:
        return None
    codes = np.where(codes == -1, len(uniques), codes)
    ints = dates.to_numpy().view("int64")
    nat = ints == np.iinfo("int64").min
    newest_first = np.where(nat, np.iinfo("int64").max, -ints)
    return np.lexsort((newest_first, codes))


def last_n(df: pd.DataFrame, key: str, n: int) -> pd.DataFrame:
    """The n newest rows per entity (df sorted newest first per entity, as `history` returns).

    Same rows as `groupby(key, sort=False).head(n)` (NULL keys dropped), from integer codes.
    """
    codes, _ = pd.factorize(df[key])
    return df[(codes >= 0) & (rank_within(codes) < n)]


def active_games(pgs: pd.DataFrame) -> pd.DataFrame:
    """player_game_summary rows with is_active = TRUE and minutes_played > 0."""
    active, minutes = pgs["is_active"], pgs["minutes_played"]
    if isinstance(active.dtype, pd.BooleanDtype) and minutes.dtype == np.float64:
        return pgs[active.to_numpy(dtype=bool, na_value=False) & (minutes.to_numpy() > 0)]
    return pgs[active.fillna(False).astype(bool) & (minutes.fillna(0) > 0)]


def team_final_dates(schedule: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """Distinct (team, game_date) of the season's final games before D, newest first per team."""
    season = season_of(day)
    fast = _team_final_dates_fast(schedule, day, season)
    if fast is not None:
        return fast
    fg = final_games(schedule)
    fg = fg[(row_seasons(fg) == season) & (fg["game_date"] < pd.Timestamp(day))] if len(fg) else fg
    both = pd.concat(
        [
            fg[["home_team_tricode", "game_date"]].rename(columns={"home_team_tricode": "team"}),
            fg[["away_team_tricode", "game_date"]].rename(columns={"away_team_tricode": "team"}),
        ],
        ignore_index=True,
    ).drop_duplicates()
    order = _entity_newest_first(both, "team")
    if order is None:
        return both.sort_values(["team", "game_date"], ascending=[True, False], kind="mergesort").reset_index(drop=True)
    return both.take(order).reset_index(drop=True)


def _team_final_dates_fast(schedule: pd.DataFrame, day: dt.date, season: int) -> pd.DataFrame | None:
    """`team_final_dates` on integer codes (no concat, drop_duplicates or sort of text), or None.

    Home then away rows, first occurrence of each (team, date) kept, sorted by team then newest
    date: the same rows, values and order as the frame-based path. Columns are read as arrays.
    """
    names = ["home_team_tricode", "away_team_tricode", "game_date", "is_regular_season", "is_playoffs", "game_status"]
    if not schedule.columns.is_unique or not set(names) <= set(schedule.columns):
        return None
    home, away, dates, rs, po, status = column_arrays(schedule, names)
    is_rs, is_po = _flag_values(rs), _flag_values(po)
    if is_rs is None or is_po is None or not _naive_datetime_dtype(dates.dtype) or status.dtype != np.float64:
        return None
    if home.dtype != object or away.dtype != object:
        return None
    values = np.asarray(dates)
    mask = (status == 3) & (is_rs | is_po)
    mask &= (_season_array(schedule) == season) & (values < pd.Timestamp(day).to_datetime64())
    teams = np.concatenate([home[mask], away[mask]])
    when = np.concatenate([values[mask], values[mask]])
    try:
        codes, uniques = pd.factorize(teams)
    except TypeError:
        return None
    rank = _text_ranks(uniques)
    if rank is None:
        return None
    ints = when.view("int64")
    date_codes, date_uniques = pd.factorize(ints)
    pair = (codes.astype("int64") + 1) * len(date_uniques) + date_codes
    _, first = np.unique(pair, return_index=True)  # first occurrence of each (team, date)
    first = first[_newest_first(rank[codes[first]], ints[first])]
    return frame_of_arrays({"team": teams[first], "game_date": when[first]}, pd.RangeIndex(len(first)))


def _flag_values(values: ArrayLike) -> np.ndarray | None:
    """`_flag_mask` of a column's array (from `column_arrays`)."""
    if isinstance(values.dtype, pd.BooleanDtype):
        return values.to_numpy(dtype=bool, na_value=False)
    if isinstance(values, np.ndarray) and values.dtype.kind == "b":
        return values
    return None


def _naive_datetime_dtype(dtype: object) -> bool:
    return isinstance(dtype, np.dtype) and dtype.kind == "M"


def is_ready(pct: float) -> bool:
    return pct >= PRODUCTION_READY_PCT


def season_boundary(day: dt.date) -> bool:
    return day.month in (10, 11, 4)


def bookkeeping(day: dt.date, run_ts: pd.Timestamp) -> dict[str, object]:
    """Columns every Phase 4 row carries with the same value (spec §1.10)."""
    return {
        "season_boundary_detected": season_boundary(day),
        "processing_decision_reason": "processed_successfully",
        "processed_at": run_ts,
        "created_at": run_ts,
        "last_reprocess_attempt_at": None,
        "reprocess_attempt_count": None,
        "circuit_breaker_active": None,
        "circuit_breaker_until": None,
        "manual_override_required": None,
        "backfill_bootstrap_mode": None,
    }


def checked_result(rows: pd.DataFrame, table: TableSpec, *, skipped: Sequence = (), eligible: int | None = None,
                   problem: str | None = None) -> ProcessorResult:
    """COMPLETE with the finished rows, or FAILED with no rows when they break the contract (spec §1.2)
    or the processor's own extra check found `problem`."""
    problem = contract_problem(rows, table) or problem
    if problem:
        return ProcessorResult(rows=empty_rows(table), outcome="FAILED", reason=problem, skipped=list(skipped),
                               entities_eligible=eligible)
    return ProcessorResult(rows=rows, outcome="COMPLETE", skipped=list(skipped), entities_eligible=eligible)


def finalize(rows: pd.DataFrame, table: TableSpec, hash_fields: Iterable[str]) -> pd.DataFrame:
    """Contract column order, NUMERIC rounding, empty arrays for NULL arrays, then data_hash."""
    if len(rows) and rows.columns.is_unique:
        return finalize_rows(rows, table, hash_fields)
    out = rows.reindex(columns=table.column_names)
    out = round_numeric_columns(out, table)
    for col in table.columns:
        if col.repeated:
            out[col.name] = [v if isinstance(v, list) else [] for v in out[col.name]]
    if "data_hash" in out.columns and len(out):
        out["data_hash"] = data_hash_column(out, table, hash_fields)
    return out.reset_index(drop=True)


def finalize_dict(columns: Mapping[str, Any], n: int, table: TableSpec, hash_fields: Iterable[str]) -> pd.DataFrame:
    """`finalize(pd.DataFrame(columns), ...)` for the column dict a processor computed: with rows,
    the finished frame is built once from the columns (`finalize_columns`), not twice."""
    if n == 0:
        return finalize(pd.DataFrame(columns), table, hash_fields)
    return finalize_columns(columns, table, hash_fields, n)


def zone_bookkeeping(comp: pd.DataFrame, missing_zone: np.ndarray, source_pct: str, day: dt.date,
                     run_ts: pd.Timestamp) -> dict[str, object]:
    """The completeness, readiness, issue and constant columns of zone-analysis rows (spec §1.8,
    §1.10): issues are own_data_incomplete (not ready) then missing_zone_data (missing_zone > 0)."""
    pct = comp["pct"].to_numpy("float64")
    ready = pct >= PRODUCTION_READY_PCT
    issues = [(["own_data_incomplete"] if not r else []) + (["missing_zone_data"] if m else [])
              for r, m in zip(ready.tolist(), (np.asarray(missing_zone) > 0).tolist())]  # fmt: skip
    return {
        "analysis_date": day,
        "expected_games_count": comp["expected"].to_numpy(),
        "actual_games_count": comp["actual"].to_numpy(),
        "missing_games_count": comp["missing"].to_numpy(),
        "completeness_percentage": pct,
        source_pct: pct,
        "early_season_flag": False,
        "insufficient_data_reason": None,
        "is_production_ready": ready,
        "data_quality_issues": issues,
        **bookkeeping(day, run_ts),
    }


def qualify(universe: Sequence[Any], counts: np.ndarray, minimum: int, what: str) -> tuple[np.ndarray, list, list[Skipped]]:
    """Entities with at least `minimum` counted games: the mask, those entities (universe order),
    and an insufficient_data skip ("{n} {what}, need {minimum}") for each of the others."""
    ok = counts >= minimum
    qualified = [e for e, q in zip(universe, ok.tolist()) if q]
    skipped = [Skipped(e, "insufficient_data", f"{n} {what}, need {minimum}")
               for e, n, q in zip(universe, counts.tolist(), ok.tolist()) if not q]
    return ok, qualified, skipped


def no_rows_result(table: TableSpec, base: str, team_dates: pd.DataFrame, min_games: int, skipped: list,
                   eligible: int) -> ProcessorResult:
    """Zone analysis with no qualifying entity: EXPECTED_EMPTY (reason `base`) while no team has
    `min_games` final games this season, else FAILED (an upstream gap)."""
    codes, _ = pd.factorize(team_dates["team"])
    season_max = int(np.bincount(codes[codes >= 0]).max(initial=0)) if len(codes) else 0
    if season_max < min_games:
        outcome, reason = "EXPECTED_EMPTY", base
    else:
        outcome, reason = "FAILED", f"{base} although the schedule shows {season_max} final games for some team"
    return ProcessorResult(rows=empty_rows(table), outcome=outcome, reason=reason, skipped=skipped,
                           entities_eligible=eligible)  # fmt: skip


#: The columns `history` reads besides the entity key (season, leak-free window, de-duplication).
HISTORY_COLUMNS = ("game_date", "season_year", "processed_at", "game_id")


def history_positions(df: pd.DataFrame, key: str, day: dt.date, schedule: pd.DataFrame) -> pd.DataFrame:
    """`history` of the key and the columns it reads only, indexed by row position in `df`.

    The same rows in the same order as `history(df, ...)`; callers take the other columns they
    need by position, instead of sorting every column of a season-sized frame.
    """
    names = [key] + [c for c in HISTORY_COLUMNS if c in df.columns]
    if df.columns.is_unique:  # by position: a label list would first build an Index of the labels
        narrow = df.take([df.columns.get_loc(c) for c in names], axis=1)
    else:
        narrow = df[names]
    return history(narrow.set_axis(pd.RangeIndex(len(df)), axis=0), key, day, schedule)
