"""Column access on numpy arrays for the daily cache's per-date computation.

compute() reads season-sized frames once per date: it takes each needed column as a numpy
array at row positions (read_declared gives every frame a RangeIndex, so labels are
positions) instead of filtering, taking and reindexing frames, whose per-call overhead
dominates at this size.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd


def floats(frame: pd.DataFrame, col: str, at: np.ndarray) -> np.ndarray:
    """A numeric column at positions `at` as float64, NULL as NaN."""
    return frame[col].to_numpy(dtype="float64", na_value=np.nan)[at]


def objects(frame: pd.DataFrame, col: str, at: np.ndarray) -> np.ndarray:
    """A column at positions `at` as an object array (text stays Python str)."""
    return frame[col].to_numpy(dtype=object)[at]


def flags(values: pd.Series) -> np.ndarray:
    """A BOOLEAN column as bool, NULL as FALSE."""
    if not isinstance(values.dtype, pd.BooleanDtype):
        values = values.astype("boolean")
    return values.to_numpy(dtype=bool, na_value=False)


def on_day(dates: pd.Series, day: dt.date) -> np.ndarray:
    """Mask of the rows dated D (a NULL date is not D)."""
    if isinstance(dates.dtype, np.dtype) and dates.dtype.kind == "M":
        return dates.to_numpy() == pd.Timestamp(day).to_datetime64()
    return (dates == pd.Timestamp(day)).to_numpy(dtype=bool, na_value=False)


def is_unique(values: np.ndarray) -> bool:
    return len(pd.unique(values)) == len(values)


def grouped_means(n: int, **columns: tuple[np.ndarray, np.ndarray]) -> dict[str, np.ndarray]:
    """`entity_aggregate("mean", codes, {name: values}, n)` for each name -> (codes, values),
    with one pandas groupby for all the columns that need its compensated kernel.

    The dispatch is entity_aggregate's, per column: reduceat when the kept rows are grouped
    contiguously and hold no NaN, else pandas' kernel, whose per-group result depends only on
    that group's rows in order, so the columns' rows can share one call under distinct codes.
    """
    out: dict[str, np.ndarray] = {}
    kernel: list[tuple[str, np.ndarray, np.ndarray]] = []
    for name, (codes, values) in columns.items():
        sel = codes >= 0
        c, x = codes[sel], values[sel]
        out[name] = np.full(n, np.nan)
        if not len(c):
            continue
        starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
        if len(starts) == np.count_nonzero(np.bincount(c)) and not np.isnan(x).any():
            out[name][c[starts]] = np.add.reduceat(x, starts) / np.diff(np.r_[starts, len(c)]).astype("float64")
        else:
            kernel.append((name, c, x))
    if kernel:
        keys = np.concatenate([c + j * n for j, (_, c, _) in enumerate(kernel)])
        agg = pd.Series(np.concatenate([x for _, _, x in kernel])).groupby(keys, sort=False).mean()
        at, means = agg.index.to_numpy(), agg.to_numpy()
        for j, (name, _, _) in enumerate(kernel):
            mine = (at >= j * n) & (at < (j + 1) * n)
            out[name][at[mine] - j * n] = means[mine]
    return out
