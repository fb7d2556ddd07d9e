"""Shared Phase 4 conventions (spec phase4-zone-analysis.md Part 1), as pure pandas helpers.

Every Phase 4 processor builds on these: the season and opening night, final games,
bootstrap, leak-free same-season windows with de-duplication, schedule-based
completeness, bookkeeping columns, and rounding + hashing of the finished rows.
Inputs are frames normalized by `nba_backfill.frames` (DATE columns are datetime64).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike
import pandas as pd

from nba_backfill.constants import BOOTSTRAP_DAYS, OPENING_NIGHT_FALLBACK, PRODUCTION_READY_PCT
from nba_backfill.dates import season_of
from nba_backfill.processor import ProcessorResult
from nba_backfill.tables import TableSpec
from nba_backfill.values import (data_hash_column, finalize_rows, round_half_away, round_half_away_array,
                                 round_numeric_columns)


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
    is_rs = _flag_mask(schedule["is_regular_season"])
    if is_rs is not None and _is_naive_datetime(schedule["game_date"]):  # the same rule on numpy arrays
        dates = schedule["game_date"].to_numpy()
        picked = dates[is_rs & (_season_array(schedule) == season) & ~np.isnat(dates)]
        if len(picked):
            return pd.Timestamp(picked.min()).date()
        if season in OPENING_NIGHT_FALLBACK:
            return dt.date.fromisoformat(OPENING_NIGHT_FALLBACK[season])
        return dt.date(season, 10, 22)
    rs = schedule[schedule["is_regular_season"].fillna(False).astype(bool)]
    rs = rs[row_seasons(rs) == season] if len(rs) else rs
    if len(rs) and rs["game_date"].notna().any():
        return rs["game_date"].min().date()
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
    """A zero-row output frame with the table's columns."""
    return pd.DataFrame({c: pd.Series([], dtype="object") for c in table.column_names})


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
    return sel[keep[_newest_first(rank[codes[keep]], ints[keep])]]


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
    return df[(codes >= 0) & (_rank_within(codes) < n)]


def _rank_within(codes: np.ndarray) -> np.ndarray:
    """Position of each row among the rows with the same code, in frame order (cumcount)."""
    order = np.argsort(codes, kind="stable")
    ranked = codes[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]]) if len(ranked) else np.zeros(0, dtype="int64")
    sizes = np.diff(np.r_[starts, len(ranked)])
    rank = np.empty(len(codes), dtype="int64")
    rank[order] = np.arange(len(codes)) - np.repeat(starts, sizes)
    return rank


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
    date: the same rows, values and order as the frame-based path.
    """
    home, away, dates = schedule["home_team_tricode"], schedule["away_team_tricode"], schedule["game_date"]
    is_rs, is_po = _flag_mask(schedule["is_regular_season"]), _flag_mask(schedule["is_playoffs"])
    status = schedule["game_status"]
    if is_rs is None or is_po is None or not _is_naive_datetime(dates) or status.dtype != np.float64:
        return None
    if home.dtype != object or away.dtype != object:
        return None
    values = dates.to_numpy()
    mask = (status.to_numpy() == 3) & (is_rs | is_po)
    mask &= (_season_array(schedule) == season) & (values < pd.Timestamp(day).to_datetime64())
    teams = np.concatenate([home.to_numpy()[mask], away.to_numpy()[mask]])
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
    return pd.DataFrame({"team": pd.Series(teams[first], dtype=object), "game_date": when[first]})


def completeness_pct(actual: float, expected: float) -> float:
    """100.0 when nothing was due, else min(100, actual/expected*100) rounded to 1 decimal."""
    if expected == 0:
        return 100.0
    return round_half_away(min(100.0, actual / expected * 100), 1)


def completeness_pct_array(actual: ArrayLike, expected: ArrayLike) -> np.ndarray:
    """completeness_pct element-wise (float64, bit-identical to the scalar rule)."""
    a = np.asarray(actual, dtype="float64")
    e = np.asarray(expected, dtype="float64")
    due = e != 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.minimum(100.0, np.where(due, a, 0.0) / np.where(due, e, 1.0) * 100)
    return np.where(due, round_half_away_array(ratio, 1), 100.0)


#: A completeness window: ("games", N) = the team's N most recent final-game dates before D;
#: ("days", K) = the team's final-game dates in [D - K, D - 1].
Window = tuple[str, int]


def completeness(
    entity_teams: pd.DataFrame,
    entity_dates: pd.DataFrame,
    team_dates: pd.DataFrame,
    *,
    day: dt.date,
    last_games: int | None = None,
    last_days: int | None = None,
) -> pd.DataFrame:
    """Schedule-based completeness per entity (spec §1.8).

    Args:
        entity_teams: columns `entity`, `team` (one row per entity).
        entity_dates: columns `entity`, `game_date`: dates on which the entity has an in-season row.
        team_dates: `team_final_dates` output.
        last_games / last_days: the window, N most recent team dates or dates in [D-K, D-1].

    Returns:
        Frame indexed by entity with expected, actual, missing, pct.
    """
    window: Window = ("games", last_games) if last_games is not None else ("days", int(last_days or 0))
    return completeness_windows(entity_teams, entity_dates, team_dates, day=day, windows={"w": window})["w"]


def completeness_windows(
    entity_teams: pd.DataFrame,
    entity_dates: pd.DataFrame,
    team_dates: pd.DataFrame,
    *,
    day: dt.date,
    windows: Mapping[str, Window],
) -> dict[str, pd.DataFrame]:
    """`completeness` for several windows at once, e.g. {"l5": ("games", 5), "l7d": ("days", 7)}.

    The (entity, team date, has row) pairs are built once with integer codes; each window is
    then a mask and a bincount. Returns one frame per window name, as `completeness` would.
    """
    tdate = team_dates["game_date"]
    if team_dates["team"].isna().any() or tdate.isna().any() or entity_dates["game_date"].isna().any():
        return {name: _completeness_merge(entity_teams, entity_dates, team_dates, day, w) for name, w in windows.items()}
    n_ent, n_td = len(entity_teams), len(team_dates)
    # team codes shared by entity_teams and team_dates (an entity without team matches nothing)
    teams, _ = pd.factorize(np.concatenate([_objects(entity_teams["team"]), _objects(team_dates["team"])]))
    ent_team, td_team = teams[:n_ent], teams[n_ent:]
    per_team = np.bincount(td_team, minlength=teams.max() + 1 if len(teams) else 0)
    by_team = np.argsort(td_team, kind="stable")  # team_dates rows grouped by team, order kept
    first = np.cumsum(per_team) - per_team
    rank = np.empty(n_td, dtype="int64")  # position of each team date within its team (head(n))
    rank[by_team] = np.arange(n_td) - np.repeat(first, per_team)
    has_team = ent_team >= 0
    reps = np.where(has_team, per_team[np.where(has_team, ent_team, 0)] if len(per_team) else 0, 0)
    pair_entity = np.repeat(np.arange(n_ent), reps)
    offset = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    pair_td = by_team[np.repeat(first[np.where(has_team, ent_team, 0)] if len(first) else 0, reps) + offset]
    # does the entity have a row on that date? (entity, date) pairs as one integer code
    ents = _entity_codes(entity_teams["entity"], entity_dates["entity"])
    dates, _ = pd.factorize(np.concatenate([tdate.to_numpy(), entity_dates["game_date"].to_numpy()]))
    n_dates = dates.max() + 1 if len(dates) else 1
    have = ents[n_ent:].astype("int64") * n_dates + dates[n_td:]
    wanted = ents[pair_entity].astype("int64") * n_dates + dates[pair_td]
    hit = np.isin(wanted, have)  # NULL entities (code -1) only meet each other and count 0 anyway
    pair_date = tdate.to_numpy()[pair_td]
    result: dict[str, pd.DataFrame] = {}
    for name, (kind, size) in windows.items():
        if kind == "games":
            inside = rank[pair_td] < size
        elif kind == "days":
            inside = pair_date >= np.datetime64(pd.Timestamp(day - dt.timedelta(days=int(size))))
        else:
            raise ValueError(f"unknown completeness window kind {kind!r}")
        expected = _per_entity(ents[:n_ent], pair_entity, inside, n_ent)
        actual = _per_entity(ents[:n_ent], pair_entity, inside & hit, n_ent)
        result[name] = _completeness_frame(entity_teams["entity"], expected, actual)
    return result


def _objects(values: pd.Series) -> np.ndarray:
    return values.to_numpy(dtype=object)


def _entity_codes(entities: pd.Series, dated: pd.Series) -> np.ndarray:
    """Codes of `entities` (factorized; NULL -1) followed by codes of `dated` in that numbering.

    A dated entity absent from `entities` (or NULL) gets -1, which only ever meets NULL entities,
    and those count 0. Factorizing the long column on its own avoids converting text to objects.
    """
    own, uniques = pd.factorize(_objects(entities))
    dated_codes, dated_uniques = pd.factorize(dated)
    mapping = pd.Index(uniques, dtype=object).get_indexer(pd.Index(dated_uniques, dtype=object))
    mapped = np.where(dated_codes >= 0, mapping[dated_codes] if len(mapping) else -1, -1)
    return np.concatenate([own, mapped]).astype("intp")


def _per_entity(entity_codes: np.ndarray, pair_entity: np.ndarray, mask: np.ndarray, n_ent: int) -> np.ndarray:
    """Count of masked pairs per entity value (rows sharing an entity share its total; NULL -> 0)."""
    per_row = np.bincount(pair_entity[mask], minlength=n_ent)
    valid = entity_codes >= 0
    per_code = np.bincount(entity_codes[valid], weights=per_row[valid], minlength=entity_codes.max() + 1 if n_ent else 0)
    return np.where(valid, per_code[np.where(valid, entity_codes, 0)] if len(per_code) else 0, 0).astype("int64")


def _completeness_frame(entities: pd.Series, expected: np.ndarray, actual: np.ndarray) -> pd.DataFrame:
    """One constructor call from one dict (adding columns one by one costs more than the counting)."""
    pct = completeness_pct_array(actual, expected) if len(expected) else np.zeros(0)
    columns = {"expected": expected, "actual": actual, "missing": expected - actual, "pct": pct}
    return pd.DataFrame(columns, index=pd.Index(entities), copy=False)


def _completeness_merge(
    entity_teams: pd.DataFrame, entity_dates: pd.DataFrame, team_dates: pd.DataFrame, day: dt.date, window: Window
) -> pd.DataFrame:
    """The merge-based reference, for inputs with NULL teams or dates (pandas joins NULL keys)."""
    kind, size = window
    if kind == "games":
        window_dates = team_dates.groupby("team", sort=False).head(size)
    else:
        lo = pd.Timestamp(day - dt.timedelta(days=int(size)))
        window_dates = team_dates[team_dates["game_date"] >= lo]
    wanted = entity_teams[["entity", "team"]].merge(window_dates, on="team", how="left")
    have = entity_dates[["entity", "game_date"]].drop_duplicates().assign(_hit=1)
    joined = wanted.merge(have, on=["entity", "game_date"], how="left")
    grouped = joined.groupby("entity", sort=False)
    out = pd.DataFrame(
        {
            "expected": grouped["game_date"].count().astype("int64"),
            "actual": grouped["_hit"].sum().astype("int64"),
        }
    )
    out = out.reindex(entity_teams["entity"]).fillna(0).astype("int64")
    out["missing"] = out["expected"] - out["actual"]
    out["pct"] = [completeness_pct(a, e) for a, e in zip(out["actual"], out["expected"])]
    return out


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


# --- per-entity windows on integer codes (zone analysis processors) ----------------------------


def entity_ranks(keys: pd.Series, entities: Sequence[object] | None = None) -> tuple[np.ndarray, np.ndarray, list]:
    """Each row's position in `entities` (-1 when absent), its rank among its entity's rows, and
    the entities (default: the distinct non-NULL keys, sorted).

    Ranks follow frame order, so on `history` output rank 0 is the newest game and
    `rank < n` selects the same rows as `last_n(rows, key, n)`, without building frames.
    """
    values = keys.to_numpy(dtype=object)
    if entities is None:
        codes, uniques = pd.factorize(values, sort=True)
        entities = list(uniques)
    else:
        codes = pd.Index(entities, dtype="object").get_indexer(values)
    return codes, rank_in_order(codes), list(entities)


def rank_in_order(codes: np.ndarray) -> np.ndarray:
    """Position of each row among the rows with the same code, in frame order; no sort when the
    codes are already grouped in ascending order (as on `history` output)."""
    n = len(codes)
    if n and (np.diff(codes) >= 0).all():
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        return np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    return _rank_within(codes)


def entity_sums(codes: np.ndarray, mask: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Per-entity sums over the masked rows of each column of `values` (rows x k), NULL as 0.

    Shape (n, k). Meant for counting stats (integer-valued floats), whose sums are exact in
    any order, so they equal pandas' groupby sums.
    """
    sel = mask & (codes >= 0)
    picked = values[sel]
    picked = np.where(np.isnan(picked), 0.0, picked)
    out = np.zeros((n, values.shape[1]))
    for j in range(values.shape[1]):
        out[:, j] = np.bincount(codes[sel], weights=picked[:, j], minlength=n)
    return out


def entity_latest(codes: np.ndarray, mask: np.ndarray, stamps: pd.Series, n: int) -> pd.Series:
    """Per-entity maximum of a UTC timestamp column over the masked rows (NaT when none), as groupby max."""
    sel = mask & (codes >= 0)
    ints = stamps.to_numpy(dtype="datetime64[ns]").view("int64")[sel]  # NaT is the smallest int64
    out = np.full(n, np.iinfo("int64").min, dtype="int64")
    np.maximum.at(out, codes[sel], ints)
    return pd.Series(pd.DatetimeIndex(out.view("datetime64[ns]")).tz_localize("UTC"))


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
    narrow = df[[key] + [c for c in HISTORY_COLUMNS if c in df.columns]]
    return history(narrow.set_axis(pd.RangeIndex(len(df)), axis=0), key, day, schedule)


def entity_first(codes: np.ndarray, mask: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Per entity, the value of its first masked row (the newest on `history` output), else None.

    Rows must be grouped by entity, as `history` returns them; object array of length n.
    """
    out = np.full(n, None, dtype=object)
    at = np.flatnonzero(mask & (codes >= 0))
    ent = codes[at]
    first = np.r_[True, ent[1:] != ent[:-1]] if len(ent) else np.zeros(0, dtype=bool)
    out[ent[first]] = values[at[first]]
    return out


# --- grouped means and sums with pandas' exact arithmetic (daily cache, Phase 3 context) ----------


def entity_aggregate(how: str, codes: np.ndarray, columns: Mapping[str, ArrayLike], n: int) -> dict[str, np.ndarray]:
    """Per-entity "mean" or "sum" of float columns over the rows with code >= 0, bit-identical to
    pandas' `Series.groupby(keys, sort=False).mean()` / `.sum()` on those rows (in that order).

    pandas 3 adds up each column of contiguously grouped rows with np.add.reduceat when it holds
    no NaN, and with its compensated kernel otherwise (skipping NaN); the two differ in the last
    bit, which rounding can expose, so this follows the same dispatch. Result position = code;
    entities without rows get NaN (mean) or 0.0 (sum).
    """
    sel = codes >= 0
    c = codes if sel.all() else codes[sel]
    empty = np.nan if how == "mean" else 0.0
    out = {name: np.full(n, empty) for name in columns}
    if not len(c):
        return out
    starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
    contiguous = len(starts) == np.count_nonzero(np.bincount(c))
    sizes = np.diff(np.r_[starts, len(c)]).astype("float64")
    kernel: dict[str, np.ndarray] = {}
    for name, values in columns.items():
        x = np.asarray(values, dtype="float64")
        x = x if sel.all() else x[sel]
        if contiguous and not np.isnan(x).any():
            seg = np.add.reduceat(x, starts)
            out[name][c[starts]] = seg / sizes if how == "mean" else seg
        else:
            kernel[name] = x
    if kernel:  # a block holding NaN in every column always takes the compensated kernel
        grouped = pd.DataFrame(kernel).groupby(c, sort=False)
        agg = grouped.mean() if how == "mean" else grouped.sum()
        at = agg.index.to_numpy()
        for name in kernel:
            out[name][at] = agg[name].to_numpy()
    return out


def int64_array(values: ArrayLike | None, n: int) -> pd.api.extensions.ExtensionArray:
    """INT64 output values (integral numbers with NaN/None for NULL, or one scalar for all n rows)
    as a nullable Int64 array: what `Series.astype("Int64")` makes of them, without its object pass."""
    if isinstance(values, pd.Series | pd.Index):
        values = values.to_numpy(dtype="float64", na_value=np.nan)
    x = np.broadcast_to(np.asarray(np.nan if values is None else values, dtype="float64"), (n,))
    missing = np.isnan(x)
    whole = np.where(missing, 0.0, x)
    if (whole != np.trunc(whole)).any():  # not integral: pandas raises its usual error
        return pd.array(x, dtype="Float64").astype("Int64")
    return pd.arrays.IntegerArray(whole.astype("int64"), missing)


def text_column(values: ArrayLike | str | None, n: int) -> pd.Series:
    """A STRING output column as object dtype with None for every NULL (NaN included); plain
    construction would infer pandas' `str` dtype, whose NULL is NaN."""
    arr = np.broadcast_to(np.asarray(values, dtype=object), (n,))
    return pd.Series(np.where(pd.isna(arr), None, arr), dtype=object)
