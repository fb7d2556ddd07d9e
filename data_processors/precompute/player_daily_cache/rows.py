"""Finished output rows of the daily cache, built as one frame from the computed columns.

`conventions.finalize` takes a frame, so the processor used to build one frame of 71 columns,
read every column back and build a second one; on a few hundred rows per date the two
constructors and the column reads cost more than the computation. `finished_frame` applies the
same rules (contract order, NUMERIC rounding, [] for NULL arrays, data_hash, all-NaN float64
for a missing column) to the column dict directly and builds the frame once, from one 2-D block
per numpy dtype. Every column gets the dtype the dict constructor gives the same value, which
is what finalize kept.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.internals import create_dataframe_from_blocks

from nba_backfill.tables import TableSpec
from nba_backfill.values import data_hashes, round_half_away_array

#: numpy dtype kinds a column keeps as a plain 2-D numpy block (datetimes become extension arrays)
_BLOCK_KINDS = frozenset("fiubO")

#: Per table (by identity): the table and (name, repeated, NUMERIC scale) of each contract column.
_PLANS: dict[int, tuple[TableSpec, tuple[tuple[str, bool, int | None], ...]]] = {}


def _plan(table: TableSpec) -> tuple[tuple[str, bool, int | None], ...]:
    """The column facts, parsed once per table rather than once per date."""
    cached = _PLANS.get(id(table))
    if cached is None or cached[0] is not table:
        cached = _PLANS[id(table)] = (table, tuple((c.name, c.repeated, c.numeric_scale) for c in table.columns))
    return cached[1]


def text_array(values: Any, n: int) -> np.ndarray:
    """A STRING column as an object array with None for every NULL (NaN included): the values of
    `conventions.text_column` without its Series, which the frame would only unwrap again."""
    if isinstance(values, np.ndarray | list | tuple | pd.Series | pd.api.extensions.ExtensionArray):
        arr = np.asarray(values, dtype=object)
        missing = pd.isna(arr)
        return np.where(missing, None, arr) if missing.any() else arr
    return np.full(n, None if pd.isna(values) else values, dtype=object)


def _full(value: Any, index: pd.RangeIndex) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """A scalar repeated over the rows, with the dtype the dict constructor broadcasts it to."""
    n = len(index)
    if value is None:
        return np.full(n, None, dtype=object)
    if type(value) is bool:
        return np.full(n, value, dtype=bool)
    if type(value) is float:
        return np.full(n, value, dtype="float64")
    series = pd.Series(value, index=index)
    dtype = series.dtype
    return series.to_numpy() if isinstance(dtype, np.dtype) and dtype.kind in _BLOCK_KINDS else series.array


def _column(value: Any, index: pd.RangeIndex) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """An unchanged column as the frame stores it: a numpy array (block kinds) or an extension array."""
    if isinstance(value, pd.Series):
        dtype = value.dtype
        return value.to_numpy() if isinstance(dtype, np.dtype) and dtype.kind in _BLOCK_KINDS else value.array
    if isinstance(value, np.ndarray):
        if value.dtype.kind in _BLOCK_KINDS:
            return value
        return pd.Series(value, index=index).array  # datetime64: the constructor's DatetimeArray
    if isinstance(value, pd.api.extensions.ExtensionArray):
        return value
    if not isinstance(value, list | tuple):
        return _full(value, index)
    series = pd.Series(value, index=index)  # a list: inferred as the constructor does
    dtype = series.dtype
    return series.to_numpy() if isinstance(dtype, np.dtype) and dtype.kind in _BLOCK_KINDS else series.array


def finished_frame(cols: Mapping[str, Any], table: TableSpec, hash_fields: Iterable[str], n: int) -> pd.DataFrame:
    """`conventions.finalize(pd.DataFrame(cols), table, hash_fields)` for n > 0 rows, built once.

    `cols` maps output columns to arrays of n values, Series with a RangeIndex, or scalars.
    NUMERIC columns are rounded per scale in one pass (float64, NaN for NULL); data_hash uses
    the same per-column texts as finalize (rounded arrays, the other columns as Series).
    """
    index = pd.RangeIndex(n)
    plan = _plan(table)
    columns: dict[str, Any] = {}
    batches: dict[int, list[tuple[str, np.ndarray]]] = {}
    for name, repeated, scale in plan:
        value = cols.get(name, None) if name in cols else _MISSING
        if repeated:
            if isinstance(value, list):
                values = value
            else:
                values = [None] * n if value is _MISSING else np.asarray(_column(value, index), dtype=object).tolist()
            lists = np.empty(n, dtype=object)
            for i, v in enumerate(values):
                lists[i] = v if isinstance(v, list) else []
            columns[name] = lists
        elif value is _MISSING:
            columns[name] = np.full(n, np.nan)
        elif scale is not None:
            if isinstance(value, np.ndarray) and value.dtype == np.float64:
                batches.setdefault(scale, []).append((name, value))
                columns[name] = None  # filled below, in contract order
            elif type(value) is float:
                batches.setdefault(scale, []).append((name, np.full(n, value)))
                columns[name] = None
            else:
                columns[name] = round_half_away_array(pd.Series(_column(value, index), index=index), scale)
        else:
            columns[name] = _column(value, index)
    for scale, parts in batches.items():
        block = np.concatenate([x for _, x in parts])
        rounded = round_half_away_array(block, scale)
        for j, (name, _) in enumerate(parts):
            columns[name] = rounded[j * n : (j + 1) * n]
    if "data_hash" in columns:
        fields = list(hash_fields)
        hashed = {f: _hash_input(columns[f], index) for f in fields if f in columns}
        columns["data_hash"] = np.array(data_hashes(hashed, table, fields, n), dtype=object)
    return _frame(columns, index)


#: Marks a contract column the processor did not supply (None is a value: an all-NULL column).
_MISSING = object()


def _hash_input(values: np.ndarray | pd.api.extensions.ExtensionArray, index: pd.RangeIndex) -> pd.Series | np.ndarray:
    """A stored column as data_hash reads it: numpy arrays as they are (their dtype kept), an
    extension array as the frame's Series of it; an Int64 array without NULL as int64 (its text
    is str(int(v)) either way, and the plain array skips the masked path)."""
    if isinstance(values, np.ndarray):
        return values
    if isinstance(values.dtype, pd.Int64Dtype) and not values.isna().any():
        return values.to_numpy(dtype="int64")
    return pd.Series(values, index=index, copy=False)


def _frame(columns: Mapping[str, np.ndarray | pd.api.extensions.ExtensionArray], index: pd.RangeIndex) -> pd.DataFrame:
    """The frame of the stored columns: one 2-D block per numpy dtype, one block per extension array."""
    n = len(index)
    groups: dict[np.dtype, list[tuple[int, np.ndarray]]] = {}
    blocks: list[tuple[Any, np.ndarray]] = []
    for j, values in enumerate(columns.values()):
        if isinstance(values, np.ndarray):
            groups.setdefault(values.dtype, []).append((j, values))
        else:
            blocks.append((values, np.array([j], dtype="intp")))
    for dtype, parts in groups.items():
        block = np.empty((len(parts), n), dtype=dtype)
        for k, (_, values) in enumerate(parts):
            block[k] = values
        blocks.append((block, np.array([j for j, _ in parts], dtype="intp")))
    return create_dataframe_from_blocks(blocks, index=index, columns=pd.Index(list(columns)))
