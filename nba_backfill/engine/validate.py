"""Check processor rows against the table contract before anything is written (engine spec §3.5)."""
from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from nba_backfill.errors import ValidationError
from nba_backfill.tables import TableSpec
from nba_backfill.values import is_null, round_half_away


def _bad_numeric(value: float, precision: int, scale: int) -> bool:
    if math.isinf(value):
        return True
    if round_half_away(value, scale) != value:
        return True
    return abs(value) >= 10 ** (precision - scale)


def validate_rows(rows: pd.DataFrame, table: TableSpec, day: dt.date, date_column: str) -> pd.DataFrame:
    """Return rows in contract column order, or raise ValidationError naming the first problem.

    Checks: no unknown columns, REQUIRED columns filled, the partition column equal to D,
    a unique primary key, NUMERIC values with at most the column scale and within
    precision, no infinite floats, finite array elements.
    """
    unknown = [c for c in rows.columns if c not in table.by_name]
    if unknown:
        raise ValidationError(f"{table.name}: unknown columns {unknown}")
    out = rows.reindex(columns=table.column_names)
    if out.empty:
        return out
    for col in table.columns:
        series = out[col.name]
        if col.repeated:
            for value in series:
                items = [] if value is None or (isinstance(value, float) and math.isnan(value)) else list(value)
                if col.base_type in ("FLOAT64", "NUMERIC") and any(is_null(v) or math.isinf(float(v)) for v in items):
                    raise ValidationError(f"{table.name}.{col.name}: array holds a NULL, NaN or infinite value")
            continue
        nulls = series.isna()
        if col.required and nulls.any():
            raise ValidationError(f"{table.name}.{col.name} is REQUIRED but {int(nulls.sum())} rows are NULL")
        if col.base_type in ("NUMERIC", "FLOAT64") and not nulls.all():
            values = pd.to_numeric(series[~nulls], errors="raise").astype(float)
            if col.numeric_scale is not None:
                bad = [v for v in values if _bad_numeric(v, col.numeric_precision or 38, col.numeric_scale)]
                if bad:
                    raise ValidationError(f"{table.name}.{col.name}: {bad[0]!r} does not fit {col.type}")
            elif values.map(math.isinf).any():
                raise ValidationError(f"{table.name}.{col.name}: infinite value")
    dates = pd.to_datetime(out[date_column]).dt.date
    if (dates != day).any():
        raise ValidationError(f"{table.name}: rows dated outside the partition {day}")
    if table.primary_key:
        dupes = out.duplicated(subset=list(table.primary_key))
        if dupes.any():
            key = out.loc[dupes, list(table.primary_key)].iloc[0].tolist()
            raise ValidationError(f"{table.name}: duplicate primary key {key}")
    return out
