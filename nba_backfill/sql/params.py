"""Query parameters: one typing rule for both backends (Python value → BigQuery type → DuckDB value).

BigQuery needs an explicit type per parameter; DuckDB infers one from the Python value
and infers badly (a Python int becomes a 32-bit INTEGER that overflows in arithmetic).
Typing every value once, by the BigQuery rule, and binding DuckDB values with that type
keeps the two backends' answers identical.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from duckdb import sqltypes

from nba_backfill.errors import TerminalWarehouseError

#: Element type of an empty or all-NULL array parameter (BigQuery needs one).
DEFAULT_ARRAY_ELEMENT = "STRING"
#: Type of a bare None parameter (BigQuery needs one; compares fine with IS NULL).
NULL_TYPE = "STRING"

_DUCKDB_TYPES = {
    "STRING": sqltypes.VARCHAR,
    "INT64": sqltypes.BIGINT,
    "FLOAT64": sqltypes.DOUBLE,
    "BOOL": sqltypes.BOOLEAN,
    "DATE": sqltypes.DATE,
    "TIMESTAMP": sqltypes.TIMESTAMP_TZ,
    "NUMERIC": duckdb.decimal_type(38, 9),
}


def _is_null(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, np.datetime64) and np.isnat(value)


def _is_list(value: Any) -> bool:
    return isinstance(value, (list, tuple, set, frozenset, np.ndarray, pd.Series, pd.Index))


def scalar_type(value: Any) -> str | None:
    """BigQuery type name of a scalar, None for NULL."""
    if _is_null(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return "BOOL"
    if isinstance(value, (int, np.integer)):
        return "INT64"
    if isinstance(value, (float, np.floating)):
        return "FLOAT64"
    if isinstance(value, Decimal):
        return "NUMERIC"
    if isinstance(value, str):
        return "STRING"
    if isinstance(value, (dt.datetime, np.datetime64)):  # before date: datetime is a date
        return "TIMESTAMP"
    if isinstance(value, dt.date):
        return "DATE"
    raise TypeError(f"unsupported query parameter value {value!r} ({type(value).__name__})")


def _element_type(values: Iterable[Any]) -> str:
    kinds: set[str] = set()
    for v in values:
        if _is_list(v):
            raise TypeError("nested arrays are not valid query parameters")
        kind = scalar_type(v)
        if kind is not None:
            kinds.add(kind)
    if not kinds:
        return DEFAULT_ARRAY_ELEMENT
    if kinds <= {"INT64", "FLOAT64"}:
        return "FLOAT64" if "FLOAT64" in kinds else "INT64"
    if len(kinds) > 1:
        raise TypeError(f"array query parameter mixes types {sorted(kinds)}")
    return kinds.pop()


def bigquery_param_type(value: Any) -> str:
    """BigQuery parameter type of a Python value: STRING, INT64, FLOAT64, BOOL, NUMERIC,
    DATE, TIMESTAMP or ARRAY<...>.

    Lists (tuples, sets, numpy arrays, Series) are arrays typed by their non-NULL elements
    (ints mixed with floats give FLOAT64; empty or all-NULL lists give ARRAY<STRING>).
    None gives STRING.

    Raises:
        TypeError: an unsupported value, a nested list or a list of mixed types.
    """
    if _is_list(value):
        return f"ARRAY<{_element_type(value)}>"
    return scalar_type(value) or NULL_TYPE


def python_value(value: Any, type_name: str) -> Any:
    """`value` as the plain Python object both clients accept for `type_name`.

    numpy scalars become Python scalars, pandas Timestamps become datetimes, naive
    timestamps are read as UTC (BigQuery's rule), NULL-likes become None.
    """
    if type_name.startswith("ARRAY<"):
        element = type_name[len("ARRAY<") : -1]
        return [python_value(v, element) for v in value]
    if _is_null(value):
        return None
    if type_name == "TIMESTAMP":
        ts = pd.Timestamp(value)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        return ts.to_pydatetime()
    if type_name == "DATE":
        return value.date() if isinstance(value, dt.datetime) else value
    if type_name == "BOOL":
        return bool(value)
    if type_name == "INT64":
        return int(value)
    if type_name == "FLOAT64":
        return float(value)
    if type_name == "NUMERIC":
        return value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    return value


def duckdb_type(type_name: str) -> Any:
    """DuckDB type of a BigQuery parameter type name."""
    if type_name.startswith("ARRAY<"):
        return duckdb.list_type(duckdb_type(type_name[len("ARRAY<") : -1]))
    return _DUCKDB_TYPES[type_name]


def duckdb_value(value: Any) -> Any:
    """A DuckDB binding for `value`, typed by the BigQuery rule (INT64 → BIGINT, ...)."""
    type_name = bigquery_param_type(value)
    return duckdb.Value(python_value(value, type_name), duckdb_type(type_name))


def duckdb_params(names: Iterable[str], params: Mapping[str, Any] | None) -> dict[str, Any]:
    """DuckDB bindings for the parameters a statement uses (DuckDB rejects unused ones).

    Raises:
        TerminalWarehouseError: the statement uses a parameter that has no value.
    """
    params = params or {}
    out: dict[str, Any] = {}
    for name in names:
        if name not in params:
            raise TerminalWarehouseError(f"query parameter @{name} has no value")
        out[name] = duckdb_value(params[name])
    return out
