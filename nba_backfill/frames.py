"""Normalize input frames by the table contract, so processors see one shape whatever the source.

Rows may come from the warehouse (typed) or straight from JSON vectors (ISO strings,
Decimals, missing columns). After `normalize_inputs` every contract table is present
with every contract column, typed as follows:

- DATE      -> datetime64[ns] (naive, midnight)      NULL -> NaT
- TIMESTAMP -> datetime64[ns, UTC]                    NULL -> NaT
- NUMERIC, FLOAT64, INT64 -> float64                  NULL -> NaN
- BOOLEAN   -> pandas nullable "boolean"              NULL -> <NA>
- STRING, JSON -> object (str)                        NULL -> None
- ARRAY<T>  -> object holding Python lists            NULL -> []
"""
from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from nba_backfill.tables import TABLES, Column, TableSpec


def _as_frame(data: Any) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    return pd.DataFrame(list(data))


def _to_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, float) and np.isnan(value):
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if hasattr(value, "tolist"):
        return list(value.tolist())
    return [value]


def _is_numpy(dtype: Any, kinds: str) -> bool:
    return isinstance(dtype, np.dtype) and dtype.kind in kinds


def _already_midnight(values: np.ndarray) -> bool:
    """True when every non-NaT datetime64[ns] value is at midnight (normalize would be a no-op)."""
    ints = values.view("i8")
    return bool(((ints % _DAY_NS == 0) | (ints == _NAT)).all())


_DAY_NS = 86_400 * 10**9
_NAT = np.iinfo("int64").min
_NUMERIC_BASES = ("NUMERIC", "FLOAT64", "INT64", "BIGNUMERIC")
_MASKED_NUMBERS = (pd.Float32Dtype, pd.Float64Dtype, pd.Int8Dtype, pd.Int16Dtype, pd.Int32Dtype, pd.Int64Dtype,
                   pd.UInt8Dtype, pd.UInt16Dtype, pd.UInt32Dtype, pd.UInt64Dtype)


def _fast_column(series: pd.Series, col: Column) -> pd.Series | None:
    """The normalized column without the generic cast when the dtype makes it trivial, else None.

    Every branch gives the same values and dtype as the generic path of `normalize_column`.
    """
    dtype = series.dtype
    base = col.base_type
    if col.repeated:
        if dtype == object:
            items = [list(v) if type(v) is list else _to_list(v) for v in series.to_numpy()]
            return pd.Series(items, index=series.index, dtype="object")
        return None
    if base in _NUMERIC_BASES:
        if dtype == np.float64:
            return series
        if _is_numpy(dtype, "fiu"):
            return series.astype("float64")
        if isinstance(dtype, _MASKED_NUMBERS):
            return pd.Series(series.to_numpy(dtype="float64", na_value=np.nan), index=series.index, name=series.name)
        return None
    if base == "DATE":
        if _is_numpy(dtype, "M"):
            out = series if dtype == np.dtype("datetime64[ns]") else series.astype("datetime64[ns]")
            return out if _already_midnight(out.to_numpy()) else out.dt.normalize()
        return None
    if base == "TIMESTAMP":
        return series if dtype == _UTC_NS else None
    if base in ("BOOLEAN", "BOOL"):
        if isinstance(dtype, pd.BooleanDtype):
            return series
        return series.astype("boolean") if _is_numpy(dtype, "b") else None
    if dtype == object:
        missing = series.isna()
        return series.where(~missing, None) if missing.any() else series
    return None


_UTC_NS = pd.DatetimeTZDtype(unit="ns", tz="UTC")


def normalize_column(series: pd.Series, col: Column) -> pd.Series:
    """Cast one column to the normalized dtype of its contract type (no-op casts are skipped)."""
    fast = _fast_column(series, col)
    if fast is not None:
        return fast
    if col.repeated:
        return pd.Series([_to_list(v) for v in series], index=series.index, dtype="object")
    base = col.base_type
    if base == "DATE":
        if pd.api.types.is_datetime64_any_dtype(series) and getattr(series.dt, "tz", None) is not None:
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        return pd.to_datetime(series, errors="coerce").astype("datetime64[ns]").dt.normalize()
    if base == "TIMESTAMP":
        return pd.to_datetime(series, errors="coerce", utc=True, format="mixed").astype("datetime64[ns, UTC]")
    if base in _NUMERIC_BASES:
        return pd.to_numeric(series.astype("object").where(series.notna(), None), errors="coerce").astype("float64")
    if base in ("BOOLEAN", "BOOL"):
        return series.astype("object").where(series.notna(), None).astype("boolean")
    out = series.astype("object")
    return out.where(out.notna(), None)


def null_column(col: Column, n: int) -> pd.Series:
    """n NULLs in the normalized dtype of `col` (what normalize_column makes of n Nones)."""
    if col.repeated:
        return pd.Series([[] for _ in range(n)], dtype="object")
    base = col.base_type
    if base == "DATE":
        return pd.Series(np.full(n, np.datetime64("NaT", "ns")))
    if base == "TIMESTAMP":
        return pd.Series(pd.DatetimeIndex(np.full(n, np.datetime64("NaT", "ns")), tz="UTC"))
    if base in _NUMERIC_BASES:
        return pd.Series(np.full(n, np.nan))
    if base in ("BOOLEAN", "BOOL"):
        return pd.Series(pd.array([pd.NA] * n, dtype="boolean"))
    return pd.Series(np.full(n, None, dtype=object), dtype="object")


def empty_frame(table: TableSpec, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """A zero-row frame with the normalized dtypes of `table` (all columns or `columns`)."""
    names = tuple(columns) if columns is not None else tuple(table.column_names)
    return _empty_frame(table, names).copy(deep=True)


@functools.lru_cache(maxsize=256)
def _empty_frame(table: TableSpec, names: tuple[str, ...]) -> pd.DataFrame:
    return normalize_frame(pd.DataFrame({n: pd.Series([], dtype="object") for n in names}), table)


#: Frame attribute set by the engine's loader on frames it already normalized (fast path).
NORMALIZED_ATTR = "nba_backfill_normalized"


def normalize_frame(frame: Any, table: TableSpec, *, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """Every contract column of `table`, normalized; absent columns become NULL; extras are kept.

    With `columns`, only those contract columns (in that order) are normalized or created as
    NULL, followed by the frame's non-contract columns; its other contract columns are dropped.
    A frame marked by the loader (NORMALIZED_ATTR) is already normalized and is not cast again.
    """
    wanted = table.columns if columns is None else tuple(table.column(c) for c in columns)
    if isinstance(frame, pd.DataFrame) and frame.attrs.get(NORMALIZED_ATTR) == table.name:
        if columns is None:
            return frame.reset_index(drop=True)
        if frame.columns.tolist() == [c.name for c in wanted]:
            return _shallow(frame)
        return _assemble(frame, table, wanted, columns_given=True, cast=False)
    return _assemble(_as_frame(frame).reset_index(drop=True), table, wanted, columns_given=columns is not None, cast=True)


def _shallow(frame: pd.DataFrame) -> pd.DataFrame:
    """A new frame on the same (copy-on-write) columns, on a fresh RangeIndex and without attrs.

    The engine's block frames already hold exactly the declared columns, so a date's slice
    needs no re-assembly; attrs are dropped because pandas deep-copies them on every operation.
    """
    out = frame.copy(deep=False)
    out.attrs = {}
    index = out.index
    if not (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1):
        out.index = pd.RangeIndex(len(out))
    return out


def _assemble(df: pd.DataFrame, table: TableSpec, wanted: Iterable[Column], *, columns_given: bool, cast: bool) -> pd.DataFrame:
    """The wanted columns (normalized when `cast`), then the extras, on a fresh RangeIndex.

    Built from one dict without copying (copy=False): the columns are new or read-only views
    under copy-on-write, and consolidating season-sized frames is the expensive part.
    """
    out: dict[str, Any] = {}
    n = len(df)
    index = pd.RangeIndex(n)
    df = df.reset_index(drop=True) if not df.index.equals(index) else df.copy(deep=False)
    df.attrs = {}  # every column taken from df would otherwise deep-copy its attrs
    names = df.columns.tolist()  # iterating a text Index item by item is slow
    present = set(names)
    for col in wanted:
        if col.name in present:
            out[col.name] = normalize_column(df[col.name], col) if cast else df[col.name]
        else:
            out[col.name] = null_column(col, n)
    contract = table.by_name
    for extra in names:
        if extra not in out and not (columns_given and extra in contract):
            out[extra] = df[extra]
    for series in out.values():
        if isinstance(series, pd.Series):
            series.index = index  # the very index object: the constructor then skips reindexing
    return pd.DataFrame(out, index=index, copy=False)


def normalize_inputs(
    inputs: Mapping[str, Any], tables: Iterable[str] = (), *, columns: Mapping[str, Iterable[str]] | None = None
) -> dict[str, pd.DataFrame]:
    """Normalize every input by its contract table; tables listed in `tables` but absent become empty.

    `columns` optionally restricts a table to some of its contract columns (see normalize_frame).
    """
    columns = columns or {}
    result: dict[str, pd.DataFrame] = {}
    for name, data in inputs.items():
        spec = TABLES.get(name)
        result[name] = normalize_frame(data, spec, columns=columns.get(name)) if spec is not None else _as_frame(data)
    for name in tables:
        if name not in result:
            spec = TABLES[name]
            result[name] = empty_frame(spec) if name not in columns else normalize_frame(pd.DataFrame(), spec, columns=columns[name])
    return result


def as_timestamp(day: dt.date) -> pd.Timestamp:
    """A date as the naive midnight Timestamp that normalized DATE columns compare against."""
    return pd.Timestamp(day)


def resolve_run_timestamp(run_timestamp: dt.datetime | None) -> pd.Timestamp:
    """The unit's run timestamp as a UTC Timestamp; None means now (bookkeeping columns only)."""
    if run_timestamp is None:
        return pd.Timestamp.now(tz="UTC")
    ts = pd.Timestamp(run_timestamp)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def read_declared(inputs: Mapping[str, Any], specs: Iterable[Any]) -> dict[str, pd.DataFrame]:
    """Each declared input (an InputSpec: `table`, `columns`) normalized to just its declared columns.

    Processors read only what their SPEC declares: it is cheaper than normalizing every
    contract column of season-sized frames, and a processor can never depend on a column
    it does not declare. An absent table is an empty frame.
    """
    out: dict[str, pd.DataFrame] = {}
    for spec in specs:
        table = TABLES[spec.table]
        data = inputs.get(spec.table)
        if data is None:
            out[spec.table] = empty_frame(table, spec.columns)
        else:
            out[spec.table] = normalize_frame(data, table, columns=spec.columns)
    return out
