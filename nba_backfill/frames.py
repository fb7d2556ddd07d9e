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


def normalize_column(series: pd.Series, col: Column) -> pd.Series:
    """Cast one column to the normalized dtype of its contract type."""
    if col.repeated:
        return pd.Series([_to_list(v) for v in series], index=series.index, dtype="object")
    base = col.base_type
    if base == "DATE":
        if pd.api.types.is_datetime64_any_dtype(series) and getattr(series.dt, "tz", None) is not None:
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        return pd.to_datetime(series, errors="coerce").astype("datetime64[ns]").dt.normalize()
    if base == "TIMESTAMP":
        return pd.to_datetime(series, errors="coerce", utc=True, format="mixed").astype("datetime64[ns, UTC]")
    if base in ("NUMERIC", "FLOAT64", "INT64", "BIGNUMERIC"):
        return pd.to_numeric(series.astype("object").where(series.notna(), None), errors="coerce").astype("float64")
    if base in ("BOOLEAN", "BOOL"):
        return series.astype("object").where(series.notna(), None).astype("boolean")
    out = series.astype("object")
    return out.where(out.notna(), None)


def empty_frame(table: TableSpec, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """A zero-row frame with the normalized dtypes of `table` (all columns or `columns`)."""
    names = list(columns) if columns is not None else table.column_names
    return normalize_frame(pd.DataFrame({n: pd.Series([], dtype="object") for n in names}), table)


#: Frame attribute set by the engine's loader on frames it already normalized (fast path).
NORMALIZED_ATTR = "nba_backfill_normalized"


def normalize_frame(frame: Any, table: TableSpec) -> pd.DataFrame:
    """Every contract column of `table`, normalized; absent columns become NULL; extras are kept."""
    if isinstance(frame, pd.DataFrame) and frame.attrs.get(NORMALIZED_ATTR) == table.name:
        return frame.reset_index(drop=True)
    df = _as_frame(frame).reset_index(drop=True)
    out: dict[str, pd.Series] = {}
    n = len(df)
    for col in table.columns:
        if col.name in df.columns:
            out[col.name] = normalize_column(df[col.name], col)
        else:
            out[col.name] = normalize_column(pd.Series([None] * n, dtype="object"), col)
    for extra in df.columns:
        if extra not in out:
            out[extra] = df[extra]
    return pd.DataFrame(out, index=pd.RangeIndex(n))


def normalize_inputs(inputs: Mapping[str, Any], tables: Iterable[str] = ()) -> dict[str, pd.DataFrame]:
    """Normalize every input by its contract table; tables listed in `tables` but absent become empty."""
    result: dict[str, pd.DataFrame] = {}
    for name, data in inputs.items():
        spec = TABLES.get(name)
        result[name] = normalize_frame(data, spec) if spec is not None else _as_frame(data)
    for name in tables:
        if name not in result:
            result[name] = empty_frame(TABLES[name])
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
