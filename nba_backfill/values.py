"""Value rules of the table contract: half-away-from-zero rounding and the canonical data_hash."""
from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd

from nba_backfill.tables import TableSpec


def is_null(value: Any) -> bool:
    """NULL or NaN (or pandas NA/NaT): the contract treats them alike."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    try:
        return bool(pd.isna(value)) if not isinstance(value, (list, tuple, dict)) else False
    except (TypeError, ValueError):
        return False


def round_half_away(value: Any, scale: int) -> float | None:
    """Round a float64 half away from zero at `scale` decimals via its shortest repr (spec §1.7)."""
    if is_null(value):
        return None
    x = float(value)
    if math.isinf(x):
        return x
    q = Decimal(repr(x)).quantize(Decimal(10) ** -scale, rounding=ROUND_HALF_UP)
    out = float(q)
    return 0.0 if out == 0 else out


def round_series(series: pd.Series, scale: int) -> pd.Series:
    """round_half_away over a Series (object-free float64 result, NaN for NULL)."""
    return pd.Series([round_half_away(v, scale) for v in series], index=series.index, dtype="float64")


def round_numeric_columns(rows: pd.DataFrame, table: TableSpec) -> pd.DataFrame:
    """Round every NUMERIC column of `rows` to its contract scale (a copy)."""
    out = rows.copy()
    for col in table.columns:
        scale = col.numeric_scale
        if scale is not None and col.name in out.columns and not col.repeated:
            out[col.name] = round_series(out[col.name], scale)
    return out


def _fmt_fixed(value: Any, scale: int) -> str:
    q = Decimal(repr(float(value))).quantize(Decimal(10) ** -scale, rounding=ROUND_HALF_UP)
    if q == 0:
        q = abs(q)
    return f"{q:.{scale}f}"


def serialize(value: Any, col_type: str) -> str:
    """Canonical text of one value for data_hash (spec §1.11), by contract type."""
    if isinstance(value, (list, tuple)) or (hasattr(value, "tolist") and not isinstance(value, str) and col_type.startswith("ARRAY<")):
        elem_type = col_type[len("ARRAY<") : -1] if col_type.startswith("ARRAY<") else col_type
        items = list(value.tolist() if hasattr(value, "tolist") else value)
        return ",".join(serialize(v, elem_type) for v in items)
    if is_null(value):
        return ""
    base = col_type.split("(")[0]
    if base == "NUMERIC":
        scale = int(col_type.split(",")[1].rstrip(")").strip())
        return _fmt_fixed(value, scale)
    if base == "FLOAT64":
        return _fmt_fixed(value, 6)
    if base in ("BOOL", "BOOLEAN"):
        return "true" if bool(value) else "false"
    if base == "INT64":
        return str(int(value))
    if base == "DATE":
        if isinstance(value, (dt.datetime, pd.Timestamp)):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        return str(value)[:10]
    return str(value)


def hash_values(values: Sequence[Any], types: Sequence[str]) -> str:
    """First 16 hex chars of SHA-256 over the '|'-joined canonical values."""
    text = "|".join(serialize(v, t) for v, t in zip(values, types, strict=True))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def data_hash_column(rows: pd.DataFrame, table: TableSpec, fields: Iterable[str]) -> pd.Series:
    """data_hash for every row of `rows` (already rounded) over `fields` in order."""
    fields = list(fields)
    types = [table.column(f).type for f in fields]
    records = rows.reindex(columns=fields).itertuples(index=False, name=None)
    return pd.Series([hash_values(r, types) for r in records], index=rows.index, dtype="object")
