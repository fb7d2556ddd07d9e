"""The warehouse contract every backend implements; engine and CLI only ever see this."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import pandas as pd

from nba_backfill.tables import TableSpec

Params = Mapping[str, Any]


class Warehouse(Protocol):
    """A warehouse with datasets and tables named as in the registry ("dataset.table").

    SQL handed to `query`/`execute` is BigQuery Standard SQL with named `@params`
    (values: str, int, float, bool, date, datetime, None, or lists of these) and
    table references written `dataset.table` exactly as in the registry; each backend
    resolves names and, for DuckDB, translates the dialect.
    """

    #: "duckdb" or "bigquery"
    kind: str
    #: The URL the warehouse was opened with (no credentials in it).
    url: str
    #: Statements (queries, DML, loads; one transaction counts once) issued so far.
    statements: int

    def query(self, sql: str, params: Params | None = None) -> pd.DataFrame:
        """Run a SELECT and return its rows as a DataFrame."""
        ...

    def execute(self, sql: str, params: Params | None = None) -> None:
        """Run a statement that returns nothing of interest (DDL, DML)."""
        ...

    def table_exists(self, name: str) -> bool:
        ...

    def create_tables(self, tables: Iterable[TableSpec]) -> None:
        """Create datasets and tables that do not exist (partitioned/clustered where the backend can)."""
        ...

    def replace_partitions(self, table: TableSpec, days: Sequence[dt.date], rows: pd.DataFrame) -> None:
        """Atomically replace the partitions `days` of `table` with `rows` (which lie in those days)."""
        ...

    def append(self, table: TableSpec, rows: pd.DataFrame) -> None:
        """Append rows in one batch (ledger rows, sample data)."""
        ...

    def close(self) -> None:
        ...
