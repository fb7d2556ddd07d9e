"""The embedded DuckDB backend: datasets are schemas, BigQuery SQL is translated on the way in.

One connection per warehouse, session time zone UTC (so DATE(ts) and CURRENT_DATE agree
with BigQuery). Writes go through the contract's Arrow conversion and are registered
as a view, then inserted by column name; a partition replacement is one transaction.
"""
from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from nba_backfill.errors import (
    EnvironmentProblem,
    RegistryError,
    TableNotFound,
    TerminalWarehouseError,
    TransientWarehouseError,
    ValidationError,
    WarehouseError,
)
from nba_backfill.sql import FAILURES_VIEW_SQL
from nba_backfill.sql.dialect import translate
from nba_backfill.sql.params import duckdb_params, duckdb_value
from nba_backfill.tables import FAILURES_VIEW, Column, TableSpec
from nba_backfill.warehouse.arrow import to_arrow
from nba_backfill.warehouse.base import Params

#: The ledger table whose creation brings the failures view with it.
UNITS_TABLE = "nba_backfill.units"

_DUCKDB_SCALARS = {
    "STRING": "VARCHAR",
    "INT64": "BIGINT",
    "FLOAT64": "DOUBLE",
    "BOOLEAN": "BOOLEAN",
    "BOOL": "BOOLEAN",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMPTZ",
    "JSON": "JSON",
}

_names = itertools.count()

#: WAL size that triggers an automatic checkpoint. DuckDB's default (16 MB) checkpointed every
#: few batch commits of a Phase 4 run (each rewriting the row groups the batch deleted from):
#: ~60 % of write CPU. The WAL stays bounded; close() still checkpoints.
CHECKPOINT_THRESHOLD = "64MB"


def quote(identifier: str) -> str:
    """A DuckDB-quoted identifier."""
    return '"' + identifier.replace('"', '""') + '"'


def quoted_name(name: str) -> str:
    """`dataset.table` as a quoted DuckDB `schema.table`."""
    return ".".join(quote(part) for part in name.split("."))


def column_type(col: Column) -> str:
    """DuckDB type of a contract column (tables.md §1.2)."""
    base = col.base_type
    if base == "NUMERIC":
        scalar = f"DECIMAL({col.numeric_precision or 38},{col.numeric_scale or 9})"
    else:
        scalar = _DUCKDB_SCALARS[base]
    return f"{scalar}[]" if col.repeated else scalar


def create_table_sql(table: TableSpec) -> str:
    """CREATE TABLE IF NOT EXISTS from the contract: contract order, REQUIRED → NOT NULL."""
    cols = ",\n  ".join(
        f"{quote(c.name)} {column_type(c)}{' NOT NULL' if c.required else ''}" for c in table.columns
    )
    return f"CREATE TABLE IF NOT EXISTS {quoted_name(table.name)} (\n  {cols}\n)"


def map_error(exc: duckdb.Error, what: str) -> WarehouseError:
    """The nba_backfill error for a duckdb exception (the one place that inspects them)."""
    message = f"{what}: {type(exc).__name__}: {exc}"
    if isinstance(exc, duckdb.CatalogException):
        return TableNotFound(message)
    if isinstance(exc, (duckdb.IOException, duckdb.TransactionException, duckdb.ConnectionException)):
        return TransientWarehouseError(message)
    return TerminalWarehouseError(message)


class DuckDBWarehouse:
    """Warehouse protocol on an embedded DuckDB database (a file, or `:memory:`)."""

    kind = "duckdb"
    supports_merge = False

    def __init__(self, path: str, url: str | None = None) -> None:
        self.path = path
        self.url = url or (f"duckdb://{path}" if path.startswith("/") else f"duckdb:///{path}")
        self.statements = 0
        try:
            self._con = duckdb.connect(path)
            self._con.execute("SET TimeZone = 'UTC'")
            self._con.execute(f"SET checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
            self._threads = self._con.execute("SELECT current_setting('threads')").fetchone()[0]
        except duckdb.Error as exc:
            raise EnvironmentProblem(f"cannot open DuckDB warehouse {path}: {exc}") from exc

    # -- reading -------------------------------------------------------------------------

    def query(self, sql: str, params: Params | None = None) -> pd.DataFrame:
        """Run a BigQuery-dialect SELECT on DuckDB and return its rows."""
        translation = translate(sql)
        bindings = duckdb_params(translation.params, params)
        with self._errors("query"):
            self.statements += 1
            result = self._con.execute(translation.sql, bindings)
            frame = result.df()
            hugeints = [d[0] for d in (result.description or []) if str(d[1]) == "HUGEINT"]
        for name in hugeints:  # SUM(BIGINT) is HUGEINT in DuckDB, INT64 in BigQuery
            frame[name] = frame[name].astype("Int64")
        return frame

    def execute(self, sql: str, params: Params | None = None) -> None:
        """Run a BigQuery-dialect statement on DuckDB (DDL, DML)."""
        translation = translate(sql)
        bindings = duckdb_params(translation.params, params)
        with self._errors("statement"):
            self.statements += 1
            self._con.execute(translation.sql, bindings)

    def table_exists(self, name: str) -> bool:
        dataset, _, table = name.partition(".")
        with self._errors("table lookup"):
            self.statements += 1
            found = self._con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = $s AND table_name = $t",
                {"s": dataset, "t": table},
            ).fetchone()
        return bool(found and found[0])

    # -- creating ------------------------------------------------------------------------

    def create_tables(self, tables: Iterable[TableSpec]) -> None:
        """Create missing schemas, tables and (with the units table) the failures view, in one transaction."""
        tables = list(tables)
        statements = [f"CREATE SCHEMA IF NOT EXISTS {quote(s)}" for s in dict.fromkeys(t.dataset for t in tables)]
        statements += [create_table_sql(t) for t in tables]
        if any(t.name == UNITS_TABLE for t in tables):
            body = translate(FAILURES_VIEW_SQL).sql
            statements.append(f"CREATE VIEW IF NOT EXISTS {quoted_name(FAILURES_VIEW)} AS {body}")
        with self._transaction("create tables"):
            for statement in statements:
                self._con.execute(statement)

    # -- writing -------------------------------------------------------------------------

    def replace_partitions(self, table: TableSpec, days: Sequence[dt.date], rows: pd.DataFrame) -> None:
        """Delete the partitions `days` of `table` and insert `rows`, in one transaction.

        Raises:
            RegistryError: `table` is not partitioned by a DATE column.
            ValidationError: rows violate the contract or lie outside `days`.
        """
        column = _date_partition(table)
        days = sorted(set(days))
        data = to_arrow(rows, table)
        _check_rows_in_days(data, column, days, table)
        if not days:
            return
        with self._single_threaded(), self._registered(data) as view, self._transaction(f"replace partitions of {table.name}"):
            self._con.execute(
                f"DELETE FROM {quoted_name(table.name)} WHERE {quote(column)} IN (SELECT UNNEST($days))",
                {"days": duckdb_value(days)},
            )
            self._insert(table, data, view)

    def append(self, table: TableSpec, rows: pd.DataFrame) -> None:
        """Insert `rows` into `table` in one statement."""
        data = to_arrow(rows, table)
        if data.num_rows == 0:
            return
        with self._single_threaded(), self._registered(data) as view, self._transaction(f"append to {table.name}"):
            self._insert(table, data, view)

    def close(self) -> None:
        """Checkpoint (fold the WAL into the file, so a copy of the file is complete) and close."""
        try:
            self._con.execute("CHECKPOINT")
        except duckdb.Error:
            pass
        self._con.close()

    # -- internals -----------------------------------------------------------------------

    @contextmanager
    def _registered(self, data: pa.Table) -> Iterator[str]:
        """`data` visible to SQL under a fresh name; registered outside any transaction, so
        unregistering never runs inside an aborted one."""
        view = f"_nba_rows_{next(_names)}"
        self._con.register(view, data)
        try:
            yield view
        finally:
            self._con.unregister(view)

    def _insert(self, table: TableSpec, data: pa.Table, view: str) -> None:
        if data.num_rows == 0:
            return
        cols = ", ".join(quote(c) for c in data.column_names)
        self._con.execute(f"INSERT INTO {quoted_name(table.name)} ({cols}) SELECT {cols} FROM {quote(view)}")

    @contextmanager
    def _single_threaded(self) -> Iterator[None]:
        """Writes of a few thousand rows run on one thread: parallel insert/delete of batches this
        small costs about twice the CPU in coordination; reads keep every thread."""
        self._con.execute("SET threads = 1")
        try:
            yield
        finally:
            self._con.execute(f"SET threads = {int(self._threads)}")

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except duckdb.InterruptException as exc:
            raise KeyboardInterrupt from exc
        except duckdb.Error as exc:
            raise map_error(exc, what) from exc

    @contextmanager
    def _transaction(self, what: str) -> Iterator[None]:
        """One counted statement: BEGIN … COMMIT, rolled back on any error."""
        with self._errors(what):
            self.statements += 1
            self._con.begin()
            try:
                yield
            except BaseException:
                self._con.rollback()
                raise
            self._con.commit()

    def __enter__(self) -> DuckDBWarehouse:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _date_partition(table: TableSpec) -> str:
    if not table.partition or table.partition_is_range or table.column(table.partition).base_type != "DATE":
        raise RegistryError(f"{table.name} is not partitioned by a DATE column; use append")
    return table.partition


def _check_rows_in_days(data: pa.Table, column: str, days: list[dt.date], table: TableSpec) -> None:
    if data.num_rows == 0:
        return
    inside = pc.is_in(data.column(column), value_set=pa.array(days, type=pa.date32()))
    if not pc.all(pc.fill_null(inside, False)).as_py():
        bad = pc.filter(data.column(column), pc.invert(pc.fill_null(inside, False)))[0].as_py()
        raise ValidationError(f"{table.name}: row with {column} = {bad} lies outside the partitions being replaced")
