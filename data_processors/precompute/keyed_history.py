"""History rows of wanted keys on integer codes, shared by the player processors.

`conventions.history` sorts and groups a whole season-to-date frame by its text key on every
date; the player processors only need the rows of the date's players (or teams), so this
module finds them through integer codes of the wanted keys: one lookup (kept per season frame
while it lives, see `key_codes`), a season window, one stable sort, and `dedup_latest` only
where a (key, date) repeats. Same rows and order within each key as `conventions.history`.
"""
from __future__ import annotations

import datetime as dt
import weakref
from typing import Any

import numpy as np
import pandas as pd

from data_processors.precompute import conventions as cv
from nba_backfill.dates import season_of


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


def take_filled(values: np.ndarray, at: np.ndarray, fill: Any) -> np.ndarray:
    """values[at] in values' dtype, with `fill` where at is -1 (no such entity)."""
    hit = at >= 0
    out = np.full(len(at), fill, dtype=values.dtype)
    out[hit] = values[at[hit]]
    return out


def pick(values: np.ndarray, at: np.ndarray, fill: Any = np.nan) -> np.ndarray:
    """values[at] with `fill` where at is -1 (no matching row), like a left merge: integers
    become float64 first, as pandas' take promotes them to hold the NULL."""
    return take_filled(values.astype("float64") if values.dtype.kind in "iu" else values, at, fill)


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
    window = (row_season_array(df) == season) & (dates >= start) & (dates < np.datetime64(day))
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


def row_season_array(df: pd.DataFrame) -> np.ndarray:
    """`conventions.row_seasons(df)` as an array, read directly when season_year is complete float64."""
    years = df["season_year"].to_numpy() if "season_year" in df.columns else None
    if years is not None and years.dtype == np.float64 and not np.isnan(years).any():
        return years
    return cv.row_seasons(df).to_numpy()
