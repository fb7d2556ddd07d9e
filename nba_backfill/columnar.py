"""Columns in and out of pandas frames without a Series per column.

Processors and checks handle frames of a few hundred rows hundreds of times per season; at
that size building a Series per column read, or a block per column written, costs more than
the arithmetic. These two helpers read a frame's column arrays straight from its blocks and
build a frame from arrays with one 2-D block per numpy dtype, giving exactly the dtypes the
public constructors give.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.internals import create_dataframe_from_blocks


def column_arrays(frame: pd.DataFrame, names: Sequence[str] | None = None) -> list[Any]:
    """The values of the named columns (unique labels; all columns by position when None) as
    arrays to read, not to modify: numpy arrays for numpy dtypes except datetimes, else the
    column's extension array. KeyError for a missing name."""
    if names is None:
        positions: list[Any] = list(range(frame.shape[1]))
    else:
        positions = [frame.columns.get_loc(name) for name in names]
    if all(type(j) is int for j in positions):
        arrays = _block_arrays(frame, frame.dtypes.tolist(), positions)
        if arrays is not None:
            return arrays
    series = [frame.iloc[:, j] for j in positions] if names is None else [frame[name] for name in names]
    values = [s.array for s in series]
    return [v.to_numpy() if isinstance(v, pd.arrays.NumpyExtensionArray) else v for v in values]


def _block_arrays(frame: pd.DataFrame, dtypes: list[Any], positions: Iterable[int]) -> list[Any] | None:
    """The arrays of the columns at `positions` from the frame's blocks (pandas' own column
    accessor; a Series per column costs ~10x more), or None when this pandas has no such
    accessor or an array does not match its column (callers then take the public path)."""
    iget = getattr(getattr(frame, "_mgr", None), "iget_values", None)
    try:
        arrays = [(iget(j), dtypes[j]) for j in positions] if iget is not None else None
    except Exception:  # noqa: BLE001 - any surprise means: use the public path
        return None
    if arrays is None or any(v.dtype != d or v.ndim != 1 or len(v) != len(frame) for v, d in arrays):
        return None
    return [v for v, _ in arrays]


#: numpy dtype kinds kept as plain numpy blocks; datetimes also, in the units pandas keeps as is
NUMPY_BLOCK_KINDS, _PANDAS_UNITS = frozenset("fiubO"), ("s", "ms", "us", "ns")


def frame_of_arrays(columns: Mapping[str, Any], index: pd.RangeIndex) -> pd.DataFrame:
    """`pd.DataFrame(columns, index=index)` for columns given as Series, extension arrays, or
    numpy arrays of numeric, bool, object (kept as object: not re-inferred) or s/ms/us/ns datetime
    values: the same dtypes, but one 2-D block per numpy dtype (the dict constructor makes and
    checks one block per column, which costs more than finalize_rows' rounding). Every block is
    a copy: the frame shares no data with the inputs."""
    n = len(index)
    groups: dict[np.dtype, list[tuple[int, np.ndarray]]] = {}
    blocks: list[tuple[Any, np.ndarray]] = []
    for j, values in enumerate(columns.values()):
        if isinstance(values, pd.Series):
            dtype = values.dtype
            if isinstance(dtype, np.dtype) and dtype.kind in NUMPY_BLOCK_KINDS:
                groups.setdefault(dtype, []).append((j, values.to_numpy()))
            else:  # extension arrays (text, nullable, datetimes): one block each, as the constructor makes
                blocks.append((values.array.copy(), np.array([j], dtype="intp")))
        elif isinstance(values, np.ndarray) and (values.dtype.kind in NUMPY_BLOCK_KINDS or (
                values.dtype.kind in "Mm" and np.datetime_data(values.dtype)[0] in _PANDAS_UNITS)):
            groups.setdefault(values.dtype, []).append((j, values))
        elif isinstance(values, np.ndarray):
            raise TypeError(f"frame_of_arrays takes no {values.dtype} numpy array")
        else:  # an extension array (a column's own, from `_column_arrays`)
            blocks.append((values.copy(), np.array([j], dtype="intp")))
    for dtype, parts in groups.items():
        block = np.empty((len(parts), n), dtype=dtype)
        for k, (_, values) in enumerate(parts):
            block[k] = values
        blocks.append((block, np.array([j for j, _ in parts], dtype="intp")))
    return create_dataframe_from_blocks(blocks, index=index, columns=_labels(tuple(columns)))


#: Column Index per tuple of labels: building a `str` Index costs more than a small frame's blocks.
_LABELS: dict[tuple[str, ...], pd.Index] = {}


def _labels(names: tuple[str, ...]) -> pd.Index:
    """A fresh Index of `names` (a shallow copy: the label data is immutable, the name is its own)."""
    cached = _LABELS.get(names)
    if cached is None:
        if len(_LABELS) > 256:
            _LABELS.clear()
        cached = _LABELS[names] = pd.Index(list(names))
    return cached.copy()
