"""The table contract in BigQuery API terms, and the checks an existing table must pass (tables.md §1.6).

Pure functions over `TableSpec`s and fetched `bigquery.Table` objects, so the exact
ALTER TABLE statements a user is told to run can be tested without a warehouse. Imported
only by `warehouse/bigquery.py`, which is itself imported only when a BigQuery URL is used.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from google.cloud import bigquery

from nba_backfill.errors import EnvironmentProblem
from nba_backfill.tables import Column, TableSpec

#: Contract type → BigQuery API schema field type (tables.md §1.2).
API_TYPES = {
    "STRING": "STRING", "INT64": "INTEGER", "FLOAT64": "FLOAT", "NUMERIC": "NUMERIC", "BOOLEAN": "BOOLEAN",
    "BOOL": "BOOLEAN", "DATE": "DATE", "TIMESTAMP": "TIMESTAMP", "JSON": "JSON",
}
#: API spellings that mean the same type (the API answers with legacy names).
_SAME = {"INT64": "INTEGER", "FLOAT64": "FLOAT", "BOOL": "BOOLEAN"}
_RANGE = re.compile(r"GENERATE_ARRAY\((-?\d+),\s*(-?\d+),\s*(\d+)\)")
_MS_PER_DAY = 86_400_000


def schema_field(col: Column) -> bigquery.SchemaField:
    """API schema field of a contract column: NUMERIC precision/scale, REPEATED arrays, REQUIRED."""
    mode = "REPEATED" if col.repeated else col.mode
    if col.base_type == "NUMERIC":
        return bigquery.SchemaField(col.name, "NUMERIC", mode=mode, precision=col.numeric_precision,
                                    scale=col.numeric_scale)
    return bigquery.SchemaField(col.name, API_TYPES[col.base_type], mode=mode)


def schema(table: TableSpec) -> list[bigquery.SchemaField]:
    return [schema_field(c) for c in table.columns]


@functools.cache
def _partition_specs() -> dict[str, str]:
    text = resources.files("nba_backfill").joinpath("contract/tables.json").read_text(encoding="utf-8")
    return {name: raw.get("partition_spec") or "" for name, raw in json.loads(text).items()}


def range_bounds(table: TableSpec) -> tuple[int, int, int]:
    """(start, end, interval) of an integer-range partitioned table, from its contract partition spec."""
    m = _RANGE.search(_partition_specs().get(table.name, ""))
    if not m:
        raise EnvironmentProblem(f"{table.name}: no GENERATE_ARRAY bounds in its contract partition spec")
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def table_definition(table: TableSpec, table_id: str) -> bigquery.Table:
    """A new table per the contract: partitioning, clustering, require_partition_filter, no expiration."""
    out = bigquery.Table(table_id, schema=schema(table))
    if table.partition and table.partition_is_range:
        start, end, interval = range_bounds(table)
        out.range_partitioning = bigquery.RangePartitioning(
            field=table.partition, range_=bigquery.PartitionRange(start=start, end=end, interval=interval)
        )
    elif table.partition:
        out.time_partitioning = bigquery.TimePartitioning(type_=bigquery.TimePartitioningType.DAY,
                                                          field=table.partition, expiration_ms=None)
    if table.cluster:
        out.clustering_fields = list(table.cluster)
    if table.partition and table.require_partition_filter:
        out.require_partition_filter = True
    return out


# ------------------------------------------------------------------ checks (tables.md §1.6)


@dataclass(frozen=True)
class TableOptions:
    """The options of an existing table that decide whether the tool may write to it."""

    partition_field: str | None
    partition_expiration_days: float | None
    require_partition_filter: bool
    clustering: tuple[str, ...]


def table_options(fetched: Any) -> TableOptions:
    """Options of a fetched `bigquery.Table` (time-partition expiration in days, None when unset)."""
    tp = fetched.time_partitioning
    expiration_ms = tp.expiration_ms if tp is not None else None
    rp = fetched.range_partitioning
    field = tp.field if tp is not None else (rp.field if rp is not None else None)
    return TableOptions(
        partition_field=field,
        partition_expiration_days=None if not expiration_ms else expiration_ms / _MS_PER_DAY,
        require_partition_filter=bool(fetched.require_partition_filter),
        clustering=tuple(fetched.clustering_fields or ()),
    )


def ddl_type(col: Column) -> str:
    """The contract type as written in DDL (ARRAY<STRING>, NUMERIC(5,1), BOOLEAN, ...)."""
    return col.type.replace(", ", ",")


def expiration_statement(qualified: str) -> str:
    return f"ALTER TABLE `{qualified}` SET OPTIONS (partition_expiration_days = NULL)"


def add_column_statement(qualified: str, col: Column) -> str:
    return f"ALTER TABLE `{qualified}` ADD COLUMN IF NOT EXISTS {col.name} {ddl_type(col)}"


def _type_matches(col: Column, field: Any) -> bool:
    api = _SAME.get(field.field_type.upper(), field.field_type.upper())
    want = API_TYPES[col.base_type]
    if api != want or (field.mode == "REPEATED") != col.repeated:
        return False
    if want == "NUMERIC" and field.precision is not None:  # plain NUMERIC holds any contract NUMERIC
        return (field.precision, field.scale or 0) == (col.numeric_precision, col.numeric_scale)
    return True


def _field_type_text(field: Any) -> str:
    text = field.field_type.upper()
    if field.precision is not None:
        text += f"({field.precision},{field.scale or 0})"
    return f"ARRAY<{text}>" if field.mode == "REPEATED" else text


@dataclass(frozen=True)
class SchemaReport:
    """How an existing table differs from the contract (extra table columns are fine)."""

    missing: tuple[Column, ...]
    mistyped: tuple[tuple[Column, str], ...]  # (contract column, the table's type)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.mistyped


def compare_schema(table: TableSpec, fetched: Any) -> SchemaReport:
    fields = {f.name.lower(): f for f in fetched.schema}
    missing = tuple(c for c in table.columns if c.name.lower() not in fields)
    mistyped = tuple(
        (c, _field_type_text(fields[c.name.lower()]))
        for c in table.columns
        if c.name.lower() in fields and not _type_matches(c, fields[c.name.lower()])
    )
    return SchemaReport(missing, mistyped)


def schema_problem(table: TableSpec, fetched: Any, qualified: str) -> str | None:
    """The one-paragraph error for a table whose schema does not hold the contract, or None."""
    report = compare_schema(table, fetched)
    if report.ok:
        return None
    parts = []
    if report.missing:
        names = ", ".join(c.name for c in report.missing)
        statements = "; ".join(add_column_statement(qualified, c) for c in report.missing)
        parts.append(f"{table.name} lacks contract columns {names}; apply: {statements};")
    for col, actual in report.mistyped:
        parts.append(f"{table.name}.{col.name} is {actual} in the warehouse but {col.type} in the contract.")
    return " ".join(parts)


def expiration_problem(table: TableSpec, fetched: Any, days: Sequence[dt.date], now: dt.datetime,
                       qualified: str) -> str | None:
    """The error for writing `days` into a table whose partition expiration would delete them, or None."""
    days_kept = table_options(fetched).partition_expiration_days
    if days_kept is None or not days:
        return None
    cutoff = now - dt.timedelta(days=days_kept)
    doomed = [d for d in sorted(days) if dt.datetime.combine(d, dt.time(), dt.timezone.utc) < cutoff]
    if not doomed:
        return None
    return (
        f"{table.name} has partition_expiration_days = {days_kept:g}: BigQuery would delete the partition "
        f"{doomed[0].isoformat()} as soon as it is written. Clear the expiration first: "
        f"{expiration_statement(qualified)}"
    )
