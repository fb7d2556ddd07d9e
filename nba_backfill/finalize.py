"""Finished output rows: contract column order, NUMERIC rounding, [] for NULL arrays, data_hash.

Every Phase 4 processor ends with these rules (spec §1.7), once per date on a few hundred
rows, so the per-column costs matter: NUMERIC float columns are rounded as one block per
scale and the frame is built from one 2-D block per dtype (`columnar.frame_of_arrays`).
`finalize_rows` finishes a frame; `finalize_columns` finishes the column dict a processor
computed, without the intermediate frame (building a 70-column frame only to read every
column back cost more than the rest of finishing).
"""
from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from nba_backfill.columnar import NUMPY_BLOCK_KINDS, column_arrays, frame_of_arrays
from nba_backfill.tables import TableSpec
from nba_backfill.values import data_hashes, round_half_away_array

#: Per table (by identity): (name, repeated, NUMERIC scale) of each contract column, in order.
_PLANS: dict[int, tuple[TableSpec, tuple[tuple[str, bool, int | None], ...]]] = {}


def column_plan(table: TableSpec) -> tuple[tuple[str, bool, int | None], ...]:
    """(name, repeated, NUMERIC scale) of each contract column, parsed once per table rather than per call."""
    cached = _PLANS.get(id(table))
    if cached is None or cached[0] is not table:
        cached = _PLANS[id(table)] = (table, tuple((c.name, c.repeated, c.numeric_scale) for c in table.columns))
    return cached[1]


def _rounded_floats(rows: pd.DataFrame, positions: list[int], names: list[str], scales: list[int]) -> dict[str, np.ndarray]:
    """NUMERIC float64 columns of `rows` (at `positions`), rounded: taken as one 2-D block (by
    position: a label list would build an Index of them), one rounding pass per scale."""
    if not names:
        return {}
    block = np.ascontiguousarray(rows.take(positions, axis=1).to_numpy(dtype="float64").T)  # one row per column
    out: dict[str, np.ndarray] = {}
    scale_of = np.asarray(scales)
    for scale in set(scales):
        at = np.flatnonzero(scale_of == scale)
        part = block[at]
        rounded = round_half_away_array(part.ravel(), scale).reshape(part.shape)
        for j, r in zip(at.tolist(), rounded, strict=True):
            out[names[j]] = r
    return out


def finalize_rows(rows: pd.DataFrame, table: TableSpec, hash_fields: Iterable[str]) -> pd.DataFrame:
    """Rows of a non-empty frame with unique labels in contract order, NUMERIC rounded, NULL arrays
    as [], data_hash filled (conventions.finalize): built column by column into one dict and one
    frame, with no reindex, assign or setitem; a missing column is all-NaN float64, as reindex makes it.

    Columns that change (rounded, missing, arrays) are numpy arrays; float64 NUMERIC columns are
    read and rounded as one block. Unchanged columns are taken as their arrays (a Series only for
    the hashed ones, which `data_hashes` reads), and the frame is built from blocks (`frame_of_arrays`)."""
    n = len(rows)
    index = pd.RangeIndex(n)
    labels = rows.columns.tolist()
    dtype_list = rows.dtypes.tolist()
    dtypes = dict(zip(labels, dtype_list, strict=True))
    at = {name: j for j, name in enumerate(labels)}
    plan = column_plan(table)
    batch = [(name, scale) for name, rep, scale in plan
             if scale is not None and not rep and dtypes.get(name) == np.float64]  # fmt: skip
    floats = _rounded_floats(rows, [at[b[0]] for b in batch], [b[0] for b in batch], [b[1] for b in batch])
    hash_fields = list(hash_fields)
    hashed = set(hash_fields) if any(name == "data_hash" for name, _, _ in plan) else set()
    arrays = column_arrays(rows)
    columns: dict[str, Any] = {}  # what the frame holds: numpy arrays, extension arrays or Series
    series_of: dict[str, pd.Series] = {}  # unchanged hashed columns, as `data_hashes` reads them
    for name, repeated, scale in plan:
        if repeated:
            values = rows[name].to_numpy(dtype=object) if name in dtypes else np.full(n, np.nan)
            lists = np.empty(n, dtype=object)
            for i, v in enumerate(values.tolist()):
                lists[i] = v if isinstance(v, list) else []
            columns[name] = lists
        elif name not in dtypes:
            columns[name] = np.full(n, np.nan)
        elif name in floats:
            columns[name] = floats[name]
        elif scale is not None:
            columns[name] = round_half_away_array(rows[name], scale)
        elif name in hashed:
            columns[name] = series_of[name] = rows[name]
        else:
            columns[name] = arrays[at[name]]
    if "data_hash" in columns:
        columns["data_hash"] = np.array(data_hashes({**columns, **series_of}, table, hash_fields, n), dtype=object)
    out = frame_of_arrays(columns, index)
    if rows.attrs:
        out.attrs = copy.deepcopy(rows.attrs)
    return out


def finalize_columns(cols: Mapping[str, Any], table: TableSpec, hash_fields: Iterable[str], n: int) -> pd.DataFrame:
    """`finalize_rows(pd.DataFrame(cols), table, hash_fields)` for n > 0 rows, with the frame built once;
    except that object arrays of text stay `object` (the constructor would infer `str`).

    `cols` maps output columns to arrays of n values, Series with a RangeIndex, or scalars.
    NUMERIC columns are rounded per scale in one pass (float64, NaN for NULL); data_hash uses
    the same per-column texts as finalize (rounded arrays, the other columns as Series).
    """
    index = pd.RangeIndex(n)
    plan = column_plan(table)
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
    return frame_of_arrays(columns, index)


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
    return series.to_numpy() if isinstance(dtype, np.dtype) and dtype.kind in NUMPY_BLOCK_KINDS else series.array


def _column(value: Any, index: pd.RangeIndex) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """An unchanged column as the frame stores it: a numpy array (block kinds) or an extension array."""
    if isinstance(value, pd.Series):
        dtype = value.dtype
        return value.to_numpy() if isinstance(dtype, np.dtype) and dtype.kind in NUMPY_BLOCK_KINDS else value.array
    if isinstance(value, np.ndarray):
        if value.dtype.kind in NUMPY_BLOCK_KINDS:
            return value
        return pd.Series(value, index=index).array  # datetime64: the constructor's DatetimeArray
    if isinstance(value, pd.api.extensions.ExtensionArray):
        return value
    if not isinstance(value, list | tuple):
        return _full(value, index)
    series = pd.Series(value, index=index)  # a list: inferred as the constructor does
    dtype = series.dtype
    return series.to_numpy() if isinstance(dtype, np.dtype) and dtype.kind in NUMPY_BLOCK_KINDS else series.array
