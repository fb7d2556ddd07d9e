"""Per-entity reductions on integer codes (numpy), with pandas' exact arithmetic where it matters."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike
import pandas as pd


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
    return rank_within(codes)


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


def rank_within(codes: np.ndarray) -> np.ndarray:
    """Position of each row among the rows with the same code, in frame order (cumcount)."""
    order = np.argsort(codes, kind="stable")
    ranked = codes[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]]) if len(ranked) else np.zeros(0, dtype="int64")
    sizes = np.diff(np.r_[starts, len(ranked)])
    rank = np.empty(len(codes), dtype="int64")
    rank[order] = np.arange(len(codes)) - np.repeat(starts, sizes)
    return rank
