"""Phase 3 history inputs of ml_feature_store (spec §C.3–§C.5): per context player, the
aggregates of H(P) and L and schedule-based completeness; per team, its season record.

Works on column arrays and integer codes of the wanted keys: the processor calls this once
per date on season-to-date frames, where sorting or grouping the whole season's text by
pandas would cost more than everything else together.
"""
from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from data_processors.precompute import conventions as cv
from nba_backfill.constants import ML_MIN_RECENT_GAMES, PLAYER_COMPLETENESS_WINDOW_GAMES
from nba_backfill.dates import season_of

L_WINDOW = 10  # L = the newest <= 10 active games (§C.3)


def objects(values: pd.Series) -> np.ndarray:
    """Text as Python objects (None/NaN for NULL): what object-dtype frames hold, no conversion."""
    return values.to_numpy(dtype=object)


def floats(values: pd.Series) -> np.ndarray:
    """A numeric column as float64 with NaN for NULL."""
    return values.to_numpy(dtype="float64", na_value=np.nan)


def flags(values: pd.Series) -> np.ndarray:
    """A BOOL column with NULL as FALSE."""
    if isinstance(values.dtype, pd.BooleanDtype):
        return values.to_numpy(dtype=bool, na_value=False)
    return values.fillna(False).astype(bool).to_numpy()


def pick(values: np.ndarray, at: np.ndarray, fill: Any = np.nan) -> np.ndarray:
    """values[at] with `fill` where at is -1 (no matching row), like a left merge."""
    if values.dtype.kind in "iu":  # NULL needs a float, as pandas' take promotes it
        values = values.astype("float64")
    if not len(values):
        return np.full(len(at), fill, dtype=values.dtype)
    out = values[at]
    out[at < 0] = fill
    return out


def pick_rows(pos: np.ndarray, at: np.ndarray) -> np.ndarray:
    """pos[at], -1 where at is -1."""
    return np.where(at >= 0, pos[at] if len(pos) else -1, -1)


def lookup(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Position in `keys` (unique) of each wanted value, -1 when absent."""
    return pd.Index(keys, dtype=object).get_indexer(pd.Index(wanted, dtype=object))


#: id(block array) -> (weak reference to it, copy of its values, their codes, their unique values).
_BLOCK_CODES: dict[int, tuple[weakref.ref, np.ndarray, np.ndarray, np.ndarray]] = {}


def key_codes(values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """`lookup(wanted, values)`: through a factorization of the block `values` is a view of.

    The loader gives each date a slice of one season frame, so the same text column would be
    hashed again on every date (~1 ms for a season of player rows). The block's factorization
    is kept while the block lives; a view is matched against a copy of the block's values
    (equality, ~5x cheaper than hashing), so a block changed since, or one holding a NULL,
    takes the plain lookup.
    """
    base = values.base
    if (base is None or not isinstance(base, np.ndarray) or base.dtype != object or not base.flags.c_contiguous
            or values.ndim != 1 or values.strides != (base.itemsize,)):
        return lookup(wanted, values)
    entry = _BLOCK_CODES.get(id(base))
    if entry is None or entry[0]() is not base:
        flat = base.reshape(-1)
        try:
            codes, uniques = pd.factorize(flat, use_na_sentinel=True)
        except TypeError:  # unhashable values: nothing to keep
            return lookup(wanted, values)
        key = id(base)
        entry = (weakref.ref(base, lambda _, key=key: _BLOCK_CODES.pop(key, None)), flat.copy(), codes, uniques)
        _BLOCK_CODES[key] = entry
    _, snapshot, codes, uniques = entry
    start = (values.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // base.itemsize
    stop = start + len(values)
    if start < 0 or stop > len(snapshot) or not bool((snapshot[start:stop] == values).all()):
        return lookup(wanted, values)
    at = lookup(wanted, uniques)
    view = codes[start:stop]
    return np.where(view >= 0, at[view] if len(at) else -1, -1)


def keyed_history(
    df: pd.DataFrame, key: str, wanted: np.ndarray, day: dt.date, schedule: pd.DataFrame,
    opening: dt.date | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """`conventions.history` of the rows whose key is one of `wanted` (unique values): their
    positions in `df`, grouped by key, newest first, and each one's index in `wanted`.

    The same rows (in-season, before D, one per (key, game_date) by `dedup_latest`) and the
    same order within each key; only the order of the keys differs, which no caller uses.
    `opening`: `conventions.opening_night(schedule, season_of(day))` when the caller has it.
    """
    dates = df["game_date"].to_numpy()
    if dates.dtype.kind != "M":  # dates not normalized: the general rule
        idx = np.flatnonzero(df[key].isin(wanted).to_numpy())
        rows = cv.history(df.take(idx).set_axis(pd.RangeIndex(len(idx)), axis=0), key, day, schedule)
        pos = idx[rows.index.to_numpy()]
        return pos, lookup(wanted, objects(df[key])[pos])
    season = season_of(day)
    start = pd.Timestamp(cv.opening_night(schedule, season) if opening is None else opening).to_datetime64()
    window = (_seasons(df) == season) & (dates >= start) & (dates < np.datetime64(day))
    sel = np.flatnonzero(window)
    codes = key_codes(objects(df[key]), wanted)[sel]
    sel, codes = sel[codes >= 0], codes[codes >= 0]
    stamps = dates[sel].view("int64")
    order = _code_newest_first(codes, stamps, len(wanted))
    sel, codes, stamps = sel[order], codes[order], stamps[order]
    same = (codes[1:] == codes[:-1]) & (stamps[1:] == stamps[:-1])
    if same.any():  # repeated (key, game_date): dedup_latest picks the row
        order = np.argsort(sel, kind="stable")  # back to row order, then the general sort
        sel, codes, stamps = sel[order], codes[order], stamps[order]
        order = np.lexsort((-stamps, codes))
        sel, codes, stamps = sel[order], codes[order], stamps[order]
        repeated = np.r_[same, False] | np.r_[False, same]
        rows = np.sort(sel[repeated])
        kept = cv.dedup_latest(df.take(rows).set_axis(pd.RangeIndex(len(rows)), axis=0), key)
        keep = ~repeated | np.isin(sel, rows[kept.index.to_numpy()])
        sel, codes = sel[keep], codes[keep]
    return sel, codes


def _code_newest_first(codes: np.ndarray, stamps: np.ndarray, n_codes: int) -> np.ndarray:
    """Order grouping rows by ascending code, newest stamp first within a code; rows of one
    (code, stamp) may come in any order (the caller re-sorts those by the general rule).

    Rows in date order (as the loader gives them): a stable sort of the reversed codes, a
    radix sort on 16-bit codes, about 10x cheaper than the two-key lexsort.
    """
    if len(codes) > 1 and n_codes < 2**15 and bool((stamps[1:] >= stamps[:-1]).all()):
        return (len(codes) - 1) - np.argsort(codes[::-1].astype(np.int16), kind="stable")
    return np.lexsort((-stamps, codes))


def _seasons(df: pd.DataFrame) -> np.ndarray:
    """`conventions.row_seasons(df)` as an array, read directly when season_year is complete float64."""
    years = df["season_year"].to_numpy() if "season_year" in df.columns else None
    if years is not None and years.dtype == np.float64 and not np.isnan(years).any():
        return years
    return cv.row_seasons(df).to_numpy()


def _first_rows(codes: np.ndarray, n: int) -> np.ndarray:
    """Per code (0..n-1), the index of its first row (-1 without rows); rows grouped by code."""
    out = np.full(n, -1, dtype="int64")
    first = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.empty(0, dtype="int64")
    out[codes[first]] = first
    return out


def _total(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Per code (0..n-1), the sum of its non-NULL values (0.0 without any).

    Only the rows that count are summed (in row order): the same sums as adding 0.0 for the
    others, which is exact, over far fewer rows.
    """
    ok = ~np.isnan(values)
    return np.bincount(codes[ok], weights=np.nan_to_num(values[ok]), minlength=n)


def _mean(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Per code, the mean of its non-NULL values; NaN without any."""
    ok = ~np.isnan(values)
    count = np.bincount(codes[ok], minlength=n)
    total = np.bincount(codes[ok], weights=np.nan_to_num(values[ok]), minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(count > 0, total / count, np.nan)


def player_history(
    cols: Mapping[str, Any], pgs: pd.DataFrame, day: dt.date, schedule: pd.DataFrame, opening: dt.date | None = None
) -> dict[str, Any]:
    """Per context player: id/team fallbacks from H(P), the Phase 3 aggregates over active games
    and L, and schedule-based completeness.

    H(P) is `keyed_history` (grouped by player, newest first). Everything is one numpy pass
    over integer player codes; a mean is the sum of the non-NULL values over their count (NaN
    when there are none). A player without rows in H(P) has NULL aggregates.
    """
    ctx_players = cols["player_lookup"]
    n = len(ctx_players)
    pos, codes = keyed_history(pgs, "player_lookup", ctx_players, day, schedule, opening)
    h_team = pick(objects(pgs["team_abbr"]), pick_rows(pos, _first_rows(codes, n)), np.nan)
    ctx_upid = cols["universal_player_id"]
    h_upid = np.full(n, np.nan, dtype=object)
    need = pd.isna(ctx_upid)
    if need.any():  # the newest non-NULL universal_player_id in H(P), for players without one
        rows = np.flatnonzero(need[codes])
        upid = objects(pgs["universal_player_id"])[pos[rows]]
        has_id = ~pd.isna(upid)
        h_upid = pick(upid[has_id], _first_rows(codes[rows][has_id], n), np.nan)

    minutes = floats(pgs["minutes_played"])
    active = flags(pgs["is_active"])[pos] & (minutes[pos] > 0)
    act_rows, ac = pos[active], codes[active]
    a_starts = np.flatnonzero(np.r_[True, ac[1:] != ac[:-1]]) if len(ac) else np.empty(0, dtype="int64")
    rank = np.arange(len(ac)) - np.repeat(a_starts, np.diff(np.r_[a_starts, len(ac)]))
    season = {"points": floats(pgs["points"])[act_rows], "minutes_played": minutes[act_rows],
              "ft_makes": floats(pgs["ft_makes"])[act_rows]}
    in_l = rank < L_WINDOW  # L: the few newest rows per player, kept apart from the season's rows
    lc, lrank = ac[in_l], rank[in_l]
    l_values = {col: v[in_l] for col, v in season.items()}
    in_5 = lrank < ML_MIN_RECENT_GAMES
    l_points = l_values["points"]
    stats = {
        "p3_last5": np.where(np.bincount(lc[in_5], minlength=n) >= ML_MIN_RECENT_GAMES,
                             _mean(lc[in_5], l_points[in_5], n), np.nan),
        "p3_last10": _mean(lc, l_points, n),
        "p3_season": _mean(ac, season["points"], n),
        "p3_minutes_season": _mean(ac, season["minutes_played"], n),
        "l_games": np.bincount(lc, minlength=n).astype("float64"),
        "l_minutes_mean": _mean(lc, l_values["minutes_played"], n),
        "l_points_sum": _total(lc, l_points, n),
        "l_ft_sum": _total(lc, l_values["ft_makes"], n),
        "trend_a": _mean(lc[lrank < 3], l_points[lrank < 3], n),
        "trend_b": _mean(lc[in_5 & (lrank >= 3)], l_points[in_5 & (lrank >= 3)], n),
    }
    no_rows = np.bincount(codes, minlength=n) == 0
    out: dict[str, Any] = {name: np.where(no_rows, np.nan, values) for name, values in stats.items()}
    upid_out = np.where(need, h_upid, ctx_upid)
    out["universal_player_id"] = np.where(pd.isna(upid_out), None, upid_out)
    team = np.where(pd.isna(h_team), cols["team_abbr"], h_team)
    comp = cv.completeness(  # entities as integer codes: same counts, cheaper than their text
        pd.DataFrame({"entity": np.arange(n), "team": pd.Series(team, dtype=object)}),
        pd.DataFrame({"entity": codes, "game_date": pgs["game_date"].array.take(pos)}),
        cv.team_final_dates(schedule, day),
        day=day,
        last_games=PLAYER_COMPLETENESS_WINDOW_GAMES,
    )
    out.update({c: comp[c].to_numpy() for c in comp.columns})
    return out


def team_record(
    team_off: pd.DataFrame, ctx_teams: np.ndarray, day: dt.date, schedule: pd.DataFrame,
    opening: dt.date | None = None,
) -> dict[str, np.ndarray]:
    """Per context row, its team's in-season de-duplicated games before D and wins (NULL
    win_flag = loss); NULL for a team without games."""
    teams = pd.unique(ctx_teams[~pd.isna(ctx_teams)])
    pos, codes = keyed_history(team_off, "team_abbr", teams, day, schedule, opening)
    games = np.bincount(codes, minlength=len(teams)).astype("float64")
    wins = np.bincount(codes, weights=flags(team_off["win_flag"])[pos].astype("float64"), minlength=len(teams))
    at = lookup(teams, ctx_teams)
    none = games == 0
    return {"team_games": pick(np.where(none, np.nan, games), at), "team_wins": pick(np.where(none, np.nan, wins), at)}
