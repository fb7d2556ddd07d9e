"""Convert a frame of rows into an Arrow table typed exactly by the table contract.

Every write goes through here, so both backends receive the same typed values: DATE as
date32, TIMESTAMP as UTC microseconds, NUMERIC(P,S) as decimal128(P,S) built exactly from
already-rounded floats (a value with more digits than the scale is a contract violation,
never silently rounded again), JSON as text, arrays as lists (never NULL).
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from nba_backfill.errors import ValidationError
from nba_backfill.tables import Column, TableSpec

_SCALARS: dict[str, pa.DataType] = {
    "STRING": pa.string(),
    "INT64": pa.int64(),
    "FLOAT64": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "BOOL": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us", tz="UTC"),
    "JSON": pa.string(),
}
#: Above this precision a decimal no longer fits a float's 15 exact digits: build per value.
_FAST_PRECISION = 15


def arrow_type(col: Column) -> pa.DataType:
    """Arrow type of one contract column (element type wrapped in a list when repeated)."""
    base = col.base_type
    if base == "NUMERIC":
        precision, scale = col.numeric_precision or 38, col.numeric_scale or 9
        scalar: pa.DataType = pa.decimal128(precision, scale)
    else:
        try:
            scalar = _SCALARS[base]
        except KeyError:
            raise ValidationError(f"unsupported contract type {col.type}") from None
    return pa.list_(scalar) if col.repeated else scalar


def arrow_schema(table: TableSpec) -> pa.Schema:
    """The Arrow schema of `table`: contract column order, REQUIRED and arrays not nullable."""
    return pa.schema(
        [pa.field(c.name, arrow_type(c), nullable=not (c.required or c.repeated)) for c in table.columns]
    )


def to_arrow(rows: pd.DataFrame, table: TableSpec) -> pa.Table:
    """`rows` as an Arrow table of `table`'s schema; absent columns become NULL.

    Raises:
        ValidationError: a column not in the contract, a value that does not convert to
            its column type, a NUMERIC with more digits than its scale or precision allow,
            or a NULL in a REQUIRED column.
    """
    extra = [c for c in rows.columns if c not in table.by_name]
    if extra:
        raise ValidationError(f"{table.name}: columns not in the contract: {', '.join(map(str, extra))}")
    n = len(rows)
    arrays = []
    for col in table.columns:
        if col.name not in rows.columns:
            if n and col.required:
                raise ValidationError(f"{table.name}.{col.name} is REQUIRED but missing")
            arrays.append(_missing(col, n))
            continue
        series = rows[col.name]
        try:
            array = _convert(series, col)
        except ValidationError as exc:
            raise ValidationError(f"{table.name}.{col.name}: {exc}") from exc
        except (ValueError, TypeError, OverflowError, ArithmeticError, pa.ArrowException) as exc:
            raise ValidationError(f"{table.name}.{col.name}: cannot convert to {col.type}: {exc}") from exc
        if col.required and array.null_count:
            raise ValidationError(f"{table.name}.{col.name} is REQUIRED but has {array.null_count} NULL value(s)")
        arrays.append(array)
    return pa.Table.from_arrays(arrays, schema=arrow_schema(table))


def _missing(col: Column, n: int) -> pa.Array:
    """An absent column: NULLs, or empty arrays for a repeated column."""
    kind = arrow_type(col)
    if col.repeated:
        return pa.array([[]] * n, type=kind)
    return pa.nulls(n, type=kind)


def _convert(series: pd.Series, col: Column) -> pa.Array:
    """One column as an Arrow array; typed dtypes take a vectorized path, object dtype is parsed."""
    if col.repeated:
        return _list_array(series, col)
    base = col.base_type
    dtype = series.dtype
    if dtype == object and len(series) and pd.isna(series.to_numpy()).all():
        return pa.nulls(len(series), type=arrow_type(col))  # what every branch below makes of all-NULL objects
    if base == "NUMERIC":
        return _decimal_array(series, col)
    if base == "DATE":
        return _date_array(series)
    if base == "TIMESTAMP":
        return _timestamp_array(series)
    if base == "INT64":
        return _int_array(series)
    if base == "FLOAT64":
        if pd.api.types.is_float_dtype(dtype) or pd.api.types.is_integer_dtype(dtype):
            return pa.array(series.to_numpy(dtype="float64", na_value=np.nan), type=pa.float64(), from_pandas=True)
        return pa.array(pd.to_numeric(_objects(series)).astype("float64"), type=pa.float64(), from_pandas=True)
    if base in ("BOOLEAN", "BOOL"):
        if pd.api.types.is_bool_dtype(dtype):
            return pa.array(series, type=pa.bool_(), from_pandas=True)
        return pa.array(_objects(series).astype("boolean"), type=pa.bool_(), from_pandas=True)
    if base == "JSON":
        values = [
            v if v is None or isinstance(v, str) else json.dumps(v, sort_keys=True) for v in _objects(series)
        ]
        return pa.array(values, type=pa.string())
    try:
        return pa.array(series, type=pa.string(), from_pandas=True)
    except pa.ArrowException as exc:
        raise ValidationError(f"non-string value in a STRING column ({exc})") from exc


def _objects(series: pd.Series) -> pd.Series:
    """Object dtype with None for every NULL-like (NaN, NA, NaT)."""
    out = series.astype("object")
    return out.where(series.notna(), None)


def _int_array(series: pd.Series) -> pa.Array:
    dtype = series.dtype
    if pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        return pa.array(series, from_pandas=True).cast(pa.int64())
    if pd.api.types.is_float_dtype(dtype):
        floats = series.to_numpy(dtype="float64", na_value=np.nan)
    else:
        floats = pd.to_numeric(_objects(series)).astype("float64").to_numpy()
    valid = ~np.isnan(floats)
    filled = np.where(valid, floats, 0.0)
    if (filled != np.trunc(filled)).any():
        raise ValidationError(f"non-integral value {filled[filled != np.trunc(filled)][0]!r} in an INT64 column")
    return pa.array(filled.astype(np.int64), type=pa.int64(), mask=~valid)


def _date_array(series: pd.Series) -> pa.Array:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        values = series
        if getattr(series.dt, "tz", None) is not None:
            values = series.dt.tz_convert("UTC").dt.tz_localize(None)
    else:
        objs = _objects(series)
        if all(v is None or (isinstance(v, dt.date) and not isinstance(v, dt.datetime)) for v in objs):
            return pa.array(objs, type=pa.date32(), from_pandas=True)
        values = pd.to_datetime(
            objs.map(lambda v: v.isoformat() if isinstance(v, (dt.date, pd.Timestamp)) else v), format="ISO8601"
        )
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    values = values.dt.floor("D").astype("datetime64[us]")
    return pa.array(values, type=pa.timestamp("us"), from_pandas=True).cast(pa.date32())


def _timestamp_array(series: pd.Series) -> pa.Array:
    if isinstance(series.dtype, pd.DatetimeTZDtype):  # Arrow keeps UTC instants: relabel only
        return pa.array(series, from_pandas=True).cast(pa.timestamp("us", tz="UTC"))
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        values = series.dt.tz_localize("UTC")
    else:
        objs = _objects(series)
        values = pd.to_datetime(
            objs.map(lambda v: v.isoformat() if isinstance(v, (dt.datetime, pd.Timestamp)) else v),
            utc=True,
            format="ISO8601",
        )
    return pa.array(values.astype("datetime64[us, UTC]"), type=pa.timestamp("us", tz="UTC"), from_pandas=True)


def _decimal_array(series: pd.Series, col: Column) -> pa.Array:
    precision, scale = col.numeric_precision or 38, col.numeric_scale or 9
    if precision > _FAST_PRECISION:
        return _decimal_array_exact(series, col, precision, scale)
    if pd.api.types.is_float_dtype(series.dtype) or pd.api.types.is_integer_dtype(series.dtype):
        floats = series.to_numpy(dtype="float64", na_value=np.nan)
    else:
        floats = pd.to_numeric(_objects(series).map(_as_float)).astype("float64").to_numpy()
    valid = ~np.isnan(floats)
    factor = 10.0**scale
    filled = np.where(valid, floats, 0.0)
    if not np.isfinite(filled).all():
        raise ValidationError("infinite value cannot be NUMERIC")
    unscaled = np.rint(filled * factor)
    # x has at most `scale` decimals (by its shortest repr) iff the nearest double to
    # unscaled / 10**scale is x itself; IEEE division is correctly rounded.
    inexact = valid & (unscaled / factor != filled)
    if inexact.any():
        bad = floats[inexact][0]
        raise ValidationError(f"value {bad!r} has more than {scale} decimal(s) ({col.type})")
    if (np.abs(unscaled) >= 10.0**precision).any():
        bad = floats[np.abs(unscaled) >= 10.0**precision][0]
        raise ValidationError(f"value {bad!r} exceeds {col.type}")
    ints = unscaled.astype(np.int64)
    words = np.empty((len(ints), 2), dtype=np.int64)  # little-endian 128-bit two's complement
    words[:, 0] = ints
    words[:, 1] = np.where(ints < 0, -1, 0)
    validity = pa.array(valid, type=pa.bool_()).buffers()[1] if not valid.all() else None
    return pa.Array.from_buffers(
        pa.decimal128(precision, scale), len(ints), [validity, pa.py_buffer(words.tobytes())],
        null_count=int((~valid).sum()),
    )


def _as_float(value: Any) -> Any:
    if value is None:
        return np.nan
    if isinstance(value, (Decimal, str)):
        return float(value)
    return value


def _decimal_array_exact(series: pd.Series, col: Column, precision: int, scale: int) -> pa.Array:
    quantum = Decimal(1).scaleb(-scale)
    out: list[Decimal | None] = []
    for value in _objects(series):
        if value is None:
            out.append(None)
            continue
        try:
            d = value if isinstance(value, Decimal) else Decimal(repr(float(value)) if not isinstance(value, str) else value)
            q = d.quantize(quantum)
        except InvalidOperation as exc:
            raise ValidationError(f"value {value!r} does not fit {col.type}") from exc
        if q != d:
            raise ValidationError(f"value {value!r} has more than {scale} decimal(s) ({col.type})")
        if len(q.as_tuple().digits) > precision:
            raise ValidationError(f"value {value!r} exceeds {col.type}")
        out.append(q + 0)
    return pa.array(out, type=pa.decimal128(precision, scale))


def _list_array(series: pd.Series, col: Column) -> pa.Array:
    element = arrow_type(col).value_type
    cells = series.tolist()
    if all(type(v) is list for v in cells):  # the usual shape: convert in one call
        return pa.array(cells, type=pa.list_(element))
    values = []
    for v in cells:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            values.append([])
        elif isinstance(v, (list, tuple)):
            values.append(list(v))
        elif hasattr(v, "tolist"):
            values.append(list(v.tolist()))
        else:
            raise ValidationError(f"{v!r} is not an array")
    return pa.array(values, type=pa.list_(element))
