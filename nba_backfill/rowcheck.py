"""Check output rows against the table contract: the processors' invariants and the engine's pre-write validation.

One implementation serves both: a processor turns a problem into a FAILED outcome
(zone spec §1.2), the engine raises ValidationError before writing (engine spec §3.5).
"""
from __future__ import annotations

import datetime as dt
import weakref
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from nba_backfill.errors import ValidationError
from nba_backfill.tables import Column, TableSpec
from nba_backfill.columnar import column_arrays
from nba_backfill.values import is_null


def _bad_numeric(values: np.ndarray, precision: int, scale: int) -> np.ndarray:
    """Mask of values with more decimals than `scale` or too many integer digits (vectorized).

    A stored value must already be rounded to the scale, so value * 10**scale is an integer
    up to float noise (a relative 1e-9 tolerance); the writer's exact decimal conversion
    rejects anything this tolerance lets through.
    """
    with np.errstate(invalid="ignore", over="ignore"):  # inf is reported by the isfinite term
        scaled = values * (10.0 ** scale)
        noise = np.abs(scaled - np.rint(scaled)) > 1e-9 * np.maximum(1.0, np.abs(scaled))
    return ~np.isfinite(values) | noise | (np.abs(values) >= 10.0 ** (precision - scale))


def contract_problem(rows: pd.DataFrame, table: TableSpec, day: dt.date | None = None,
                     date_column: str | None = None) -> str | None:
    """The first contract violation of `rows`, or None.

    Checks: no unknown columns, REQUIRED columns filled, the partition column equal to D
    (when given), a unique primary key, NUMERIC values with at most the column scale and
    within precision, no infinite floats, finite array elements. Columns are checked on
    their numpy values (per-column pandas calls dominate on frames of a few hundred rows).
    """
    names = rows.columns.tolist()
    unknown = [c for c in names if c not in table.by_name]
    if unknown:
        return f"{table.name}: unknown columns {unknown}"
    if rows.empty:
        return None
    problem = _contract_problem(rows, table, names, day, date_column)
    if problem is None:
        _remember(rows, table, names)
    return problem


#: The last frame that passed `contract_problem`: (weak reference, table, shape, column names).
_passed: tuple[weakref.ref, TableSpec, tuple[int, int], list[str]] | None = None


def _remember(rows: pd.DataFrame, table: TableSpec, names: list[str]) -> None:
    global _passed
    _passed = (weakref.ref(rows), table, rows.shape, names)


def _already_passed(rows: pd.DataFrame, table: TableSpec) -> bool:
    """`rows` is the very frame (same object, shape and columns) that last passed the checks of
    `table`: a processor checks its result, then the engine validates it again before writing."""
    if _passed is None:
        return False
    ref, checked, shape, names = _passed
    return ref() is rows and checked is table and rows.shape == shape and rows.columns.tolist() == names


def _contract_problem(rows: pd.DataFrame, table: TableSpec, names: list[str], day: dt.date | None,
                      date_column: str | None) -> str | None:
    """`contract_problem` of a non-empty frame whose columns are all known."""
    present = set(names)
    if len(present) != len(names):  # all names are contract names here; Index.is_unique builds a hash table
        return _problem_by_column(rows, table, present, day, date_column)
    at = {name: j for j, name in enumerate(names)}
    arrays = column_arrays(rows)
    plan = _plan(table)
    numeric = _float_numeric_problems(arrays, table, at, plan)
    n = len(rows)
    for col in plan:
        j = at.get(col.name)
        if j is None:
            if col.required:
                return f"{table.name}.{col.name} is REQUIRED but missing"
            continue
        values = arrays[j]
        problem = None
        if col.repeated:
            if col.numeric and not _finite_elements(values):
                problem = f"{table.name}.{col.name}: array holds a NULL, NaN or infinite value"
        elif col.name in numeric:
            nulls, problem = numeric[col.name]
            if col.required and nulls:
                problem = f"{table.name}.{col.name} is REQUIRED but {nulls} rows are NULL"
            elif nulls == n:
                problem = None
        elif col.required or col.numeric:
            mask = _array_nulls(values)
            nulls = int(mask.sum()) if mask is not None else 0
            if col.required and nulls:
                problem = f"{table.name}.{col.name} is REQUIRED but {nulls} rows are NULL"
            elif col.numeric and nulls < n:
                problem = _column_problem(rows[col.name], table.column(col.name), table.name)
        if problem:
            return problem
    return _row_problem(rows, table, day, date_column, arrays, at)


class _Check(NamedTuple):
    """What the checks need of one contract column (Column's properties parse the type each time)."""

    name: str
    required: bool
    repeated: bool
    numeric: bool  # NUMERIC or FLOAT64
    scale: int | None
    precision: int | None
    type: str


_PLANS: dict[int, tuple[TableSpec, tuple[_Check, ...]]] = {}


def _plan(table: TableSpec) -> tuple[_Check, ...]:
    """The per-column checks of `table`, computed once per table object."""
    cached = _PLANS.get(id(table))
    if cached is None or cached[0] is not table:
        plan = tuple(_Check(c.name, c.required, c.repeated, c.base_type in ("NUMERIC", "FLOAT64"), c.numeric_scale,
                            c.numeric_precision, c.type) for c in table.columns)
        cached = _PLANS[id(table)] = (table, plan)
    return cached[1]


def _array_nulls(values: Any) -> np.ndarray | None:
    """The NULL mask of one column array (None when the dtype cannot hold NULLs), like `Series.isna`."""
    if isinstance(values, np.ndarray):
        kind = values.dtype.kind
        if kind in "iub":
            return None
        if kind == "f":
            return np.isnan(values)
        if kind in "mM":
            return np.isnat(values)
        return pd.isna(values)
    return np.asarray(values.isna(), dtype=bool)


def _problem_by_column(rows: pd.DataFrame, table: TableSpec, present: set[str], day: dt.date | None,
                       date_column: str | None) -> str | None:
    """`contract_problem` one column at a time (frames with repeated column labels)."""
    for col in table.columns:
        if col.name not in present:
            if col.required:
                return f"{table.name}.{col.name} is REQUIRED but missing"
            continue
        problem = _column_problem(rows[col.name], col, table.name)
        if problem:
            return problem
    return _row_problem(rows, table, day, date_column)


def _row_problem(rows: pd.DataFrame, table: TableSpec, day: dt.date | None, date_column: str | None,
                 arrays: list[Any] | None = None, at: dict[str, int] | None = None) -> str | None:
    """The partition and primary-key checks, after the column checks."""
    problem = _partition_problem(rows, table, day, date_column)
    if problem:
        return problem
    key = list(table.primary_key)
    if key and _may_repeat_key(rows, key, None if arrays is None or at is None else [arrays[at[k]] for k in key]):
        dupes = rows.duplicated(subset=key)
        if dupes.any():
            found = rows.loc[dupes, key].iloc[0].tolist()
            return f"{table.name}: duplicate primary key {found}"
    return None


def _partition_problem(rows: pd.DataFrame, table: TableSpec, day: dt.date | None, date_column: str | None) -> str | None:
    if day is not None and date_column is not None and len(rows) and _off_partition(rows[date_column], day):
        return f"{table.name}: rows dated outside the partition {day}"
    return None


def _may_repeat_key(rows: pd.DataFrame, key: list[str], arrays: list[Any] | None = None) -> bool:
    """False when the key columns are certainly unique together (factorized codes, NULLs equal,
    as `duplicated` groups them); True sends the frame through `duplicated` for the message.
    `arrays` are the key columns' arrays when the caller already has them."""
    if arrays is None:
        if not rows.columns.is_unique:
            return True
        arrays = [rows[name] for name in key]
    combined = np.zeros(len(rows), dtype="int64")
    for values in arrays:
        try:
            codes, uniques = pd.factorize(values)
        except TypeError:
            return True
        width = len(uniques) + 1
        if combined.max(initial=0) >= np.iinfo("int64").max // (width + 1):
            combined = pd.factorize(combined)[0].astype("int64")
        combined = combined * width + (codes + 1)
    return len(pd.unique(combined)) < len(rows)


def _float_numeric_problems(arrays: list[Any], table: TableSpec, at: dict[str, int],
                            plan: tuple[_Check, ...]) -> dict[str, tuple[int, str | None]]:
    """NULL count and value violation (or None) of every non-repeated float64 NUMERIC/FLOAT64 column,
    checked at once on one 2-D array; the same answers as `_column_problem` (NULL values are skipped)."""
    cols = [c for c in plan if c.numeric and not c.repeated and c.name in at
            and isinstance(arrays[at[c.name]], np.ndarray) and arrays[at[c.name]].dtype == np.float64]  # fmt: skip
    if not cols:
        return {}
    x = np.column_stack([arrays[at[c.name]] for c in cols])
    nulls = np.isnan(x)
    counts = nulls.sum(axis=0)
    scaled = [j for j, c in enumerate(cols) if c.scale is not None]
    bad = np.zeros_like(nulls)
    if scaled:
        scale = np.array([10.0 ** cols[j].scale for j in scaled])
        limit = np.array([10.0 ** ((cols[j].precision or 38) - cols[j].scale) for j in scaled])
        with np.errstate(invalid="ignore", over="ignore"):
            values = x[:, scaled]
            s = values * scale
            noise = np.abs(s - np.rint(s)) > 1e-9 * np.maximum(1.0, np.abs(s))
            bad[:, scaled] = (~np.isfinite(values) | noise | (np.abs(values) >= limit)) & ~nulls[:, scaled]
    hits = bad.any(axis=0)
    infinite = np.isinf(x).any(axis=0)
    out: dict[str, tuple[int, str | None]] = {}
    for j, col in enumerate(cols):
        problem = None
        if col.scale is not None:
            if hits[j]:
                problem = f"{table.name}.{col.name}: {float(x[np.flatnonzero(bad[:, j])[0], j])!r} does not fit {col.type}"
        elif infinite[j]:
            problem = f"{table.name}.{col.name}: infinite value"
        out[col.name] = (int(counts[j]), problem)
    return out


def _column_problem(series: pd.Series, col: Column, table_name: str) -> str | None:
    """The violation of one present column, or None."""
    if col.repeated:
        if col.base_type in ("FLOAT64", "NUMERIC") and not _finite_elements(series):
            return f"{table_name}.{col.name}: array holds a NULL, NaN or infinite value"
        return None
    dtype = series.dtype
    floats = isinstance(dtype, np.dtype) and dtype == np.float64
    if floats:
        x = series.to_numpy()
        nulls = np.isnan(x)
    else:
        nulls = _null_mask(series)
    if col.required and nulls.any():
        return f"{table_name}.{col.name} is REQUIRED but {int(nulls.sum())} rows are NULL"
    if col.base_type in ("NUMERIC", "FLOAT64") and not nulls.all():
        if floats:
            values = x[~nulls] if nulls.any() else x
        else:
            values = pd.to_numeric(series[~nulls], errors="raise").to_numpy(dtype="float64")
        if col.numeric_scale is not None:
            bad = values[_bad_numeric(values, col.numeric_precision or 38, col.numeric_scale)]
            if len(bad):
                return f"{table_name}.{col.name}: {float(bad[0])!r} does not fit {col.type}"
        elif np.isinf(values).any():
            return f"{table_name}.{col.name}: infinite value"
    return None


def _null_mask(series: pd.Series) -> np.ndarray:
    """`series.isna()` as a numpy mask, without building a Series where the dtype allows."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype):
        if dtype.kind in "iub":
            return np.zeros(len(series), dtype=bool)
        if dtype.kind in "mM":
            return np.isnat(series.to_numpy())
        if dtype.kind == "f":
            return np.isnan(series.to_numpy())
        if dtype == object:
            return pd.isna(series.to_numpy())
    return series.isna().to_numpy()


_PLAIN_NUMBERS = frozenset({float, int, type(None), np.float64})


def _finite_elements(series: pd.Series | np.ndarray) -> bool:
    """Every element of every list/tuple/array cell is a finite number (NULL elements are not)."""
    cells = series.to_numpy(dtype=object) if isinstance(series, pd.Series) else np.asarray(series, dtype=object)
    flat = [x for v in cells if isinstance(v, (list, tuple, np.ndarray)) for x in v]
    if not flat:
        return True
    if set(map(type, flat)) <= _PLAIN_NUMBERS:  # numpy reads None as NaN, like the is_null rule below
        return bool(np.isfinite(np.array(flat, dtype="float64")).all())
    return bool(np.isfinite(np.array([np.nan if is_null(x) else x for x in flat], dtype="float64")).all())


def _off_partition(values: pd.Series, day: dt.date) -> bool:
    """Some row's date differs from D (NULL included)."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "M":
        return bool((values.to_numpy().astype("datetime64[D]") != np.datetime64(day, "D")).any())
    if dtype == object:
        objects = values.to_numpy()
        if all(type(v) is dt.date for v in objects):
            return bool((objects != day).any())
    dates = pd.to_datetime(values).dt.date
    return bool((dates != day).any())


def validate_rows(rows: pd.DataFrame, table: TableSpec, day: dt.date, date_column: str) -> pd.DataFrame:
    """Rows in contract column order, or ValidationError naming the first contract violation."""
    if _already_passed(rows, table):  # only the partition check is new
        problem = _partition_problem(rows, table, day, date_column)
    else:
        problem = contract_problem(rows, table, day, date_column)
    if problem:
        raise ValidationError(problem)
    names = table.column_names
    return rows if rows.columns.tolist() == names else rows.reindex(columns=names)
