"""Check output rows against the table contract: the processors' invariants and the engine's pre-write validation.

One implementation serves both: a processor turns a problem into a FAILED outcome
(zone spec §1.2), the engine raises ValidationError before writing (engine spec §3.5).
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from nba_backfill.errors import ValidationError
from nba_backfill.tables import TableSpec
from nba_backfill.values import is_null


def _bad_numeric(values: np.ndarray, precision: int, scale: int) -> np.ndarray:
    """Mask of values with more decimals than `scale` or too many integer digits (vectorized).

    A stored value must already be rounded to the scale, so value * 10**scale is an integer
    up to float noise (a relative 1e-9 tolerance); the writer's exact decimal conversion
    rejects anything this tolerance lets through.
    """
    scaled = values * (10.0 ** scale)
    noise = np.abs(scaled - np.rint(scaled)) > 1e-9 * np.maximum(1.0, np.abs(scaled))
    return ~np.isfinite(values) | noise | (np.abs(values) >= 10.0 ** (precision - scale))


def contract_problem(rows: pd.DataFrame, table: TableSpec, day: dt.date | None = None,
                     date_column: str | None = None) -> str | None:
    """The first contract violation of `rows`, or None.

    Checks: no unknown columns, REQUIRED columns filled, the partition column equal to D
    (when given), a unique primary key, NUMERIC values with at most the column scale and
    within precision, no infinite floats, finite array elements.
    """
    unknown = [c for c in rows.columns if c not in table.by_name]
    if unknown:
        return f"{table.name}: unknown columns {unknown}"
    if rows.empty:
        return None
    for col in table.columns:
        if col.name not in rows.columns:
            if col.required:
                return f"{table.name}.{col.name} is REQUIRED but missing"
            continue
        series = rows[col.name]
        if col.repeated:
            if col.base_type in ("FLOAT64", "NUMERIC"):
                flat = [x for v in series if isinstance(v, (list, tuple, np.ndarray)) for x in v]
                if flat and not np.isfinite(np.array([np.nan if is_null(x) else x for x in flat], dtype="float64")).all():
                    return f"{table.name}.{col.name}: array holds a NULL, NaN or infinite value"
            continue
        nulls = series.isna()
        if col.required and nulls.any():
            return f"{table.name}.{col.name} is REQUIRED but {int(nulls.sum())} rows are NULL"
        if col.base_type in ("NUMERIC", "FLOAT64") and not nulls.all():
            values = pd.to_numeric(series[~nulls], errors="raise").to_numpy(dtype="float64")
            if col.numeric_scale is not None:
                bad = values[_bad_numeric(values, col.numeric_precision or 38, col.numeric_scale)]
                if len(bad):
                    return f"{table.name}.{col.name}: {float(bad[0])!r} does not fit {col.type}"
            elif np.isinf(values).any():
                return f"{table.name}.{col.name}: infinite value"
    if day is not None and date_column is not None:
        dates = pd.to_datetime(rows[date_column]).dt.date
        if (dates != day).any():
            return f"{table.name}: rows dated outside the partition {day}"
    if table.primary_key:
        dupes = rows.duplicated(subset=list(table.primary_key))
        if dupes.any():
            key = rows.loc[dupes, list(table.primary_key)].iloc[0].tolist()
            return f"{table.name}: duplicate primary key {key}"
    return None


def validate_rows(rows: pd.DataFrame, table: TableSpec, day: dt.date, date_column: str) -> pd.DataFrame:
    """Rows in contract column order, or ValidationError naming the first contract violation."""
    problem = contract_problem(rows, table, day, date_column)
    if problem:
        raise ValidationError(problem)
    return rows.reindex(columns=table.column_names)
