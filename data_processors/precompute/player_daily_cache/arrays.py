"""Column access on numpy arrays for the daily cache's per-date computation.

compute() reads season-sized frames once per date: it takes each needed column as a numpy
array at row positions (read_declared gives every frame a RangeIndex, so labels are
positions) instead of filtering, taking and reindexing frames, whose per-call overhead
dominates at this size.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
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


def pick(values: np.ndarray, at: np.ndarray, fill: Any) -> np.ndarray:
    """values[at], with `fill` where `at` is -1 (no such entity)."""
    hit = at >= 0
    out = np.full(len(at), fill, dtype=values.dtype)
    out[hit] = values[at[hit]]
    return out


def lookup(names: ArrayLike, keys: ArrayLike) -> np.ndarray:
    """Position of each key in `names` (unique; -1 when absent or NULL). Object indexes: pandas
    would otherwise convert the text to its arrow-backed dtype first."""
    return pd.Index(names, dtype=object).get_indexer(pd.Index(keys, dtype=object))


def is_unique(values: np.ndarray) -> bool:
    return len(pd.unique(values)) == len(values)
