"""The BigQuery backend: the warehouse protocol over google-cloud-bigquery.

Registry names (`dataset.table`) are rewritten on the AST to
`` `project.<prefix><dataset>.table` ``; values travel only as typed query parameters.

Partition replacement loads the rows (parquet) into a fresh staging table, then runs one
multi-statement transaction: DELETE the days' partitions, INSERT ... SELECT from staging,
COMMIT. Chosen over WRITE_TRUNCATE through `table$YYYYMMDD` decorators because it
replaces any number of days atomically (decorator loads are one job per day, each its own
commit), spends no load job of the target table's daily quota (1,500) and works alike on
time- and range-partitioned layouts. The staging table expires after a day, so a crash
between the load and the cleanup leaves nothing behind for long.

Driver errors are mapped (and transient ones retried) in `bigquery_errors`; the contract
schema and the §1.6 checks live in `bigquery_schema`.
"""
from __future__ import annotations

import datetime as dt
import functools
import importlib.util
import io
import logging
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlglot
from google.cloud import bigquery

from nba_backfill.errors import (
    EnvironmentProblem,
    RegistryError,
    TableNotFound,
    TerminalWarehouseError,
    ValidationError,
)
from nba_backfill.sql import FAILURES_VIEW_SQL
from nba_backfill.sql.dialect import parameter_names
from nba_backfill.sql.naming import qualify
from nba_backfill.sql.params import bigquery_param_type, python_value
from nba_backfill.tables import FAILURES_VIEW, TableSpec
from nba_backfill.warehouse import bigquery_schema as bqs
from nba_backfill.warehouse.arrow import to_arrow
from nba_backfill.warehouse.base import Params
from nba_backfill.warehouse.bigquery_errors import DRIVER_ERRORS, SETUP_ERRORS, RetryPolicy, map_error, with_retry

log = logging.getLogger(__name__)

UNITS_TABLE = "nba_backfill.units"
#: Below this many parquet bytes the client uploads in one multipart request.
_MULTIPART_LIMIT = 5 * 1024 * 1024
_STAGING_LIFETIME = dt.timedelta(days=1)


@functools.lru_cache(maxsize=1024)
def _parameter_names(sql: str) -> tuple[str, ...]:
    names: set[str] = set()
    for tree in sqlglot.parse(sql, read="bigquery"):
        if tree is not None:
            names |= parameter_names(tree)
    return tuple(sorted(names))


@functools.lru_cache(maxsize=1024)
def qualify_script(sql: str, dataset_root: str) -> str:
    """`sql` (one statement or a script) with each `dataset.table` as `` `<dataset_root><dataset>.table` ``."""
    statements = [s for s in sqlglot.parse(sql, read="bigquery") if s is not None]
    mapping = lambda name: f"`{dataset_root}{name}`"  # noqa: E731
    return ";\n".join(qualify(s.sql(dialect="bigquery"), mapping) for s in statements)


def query_parameters(sql: str, params: Params | None) -> list[Any]:
    """Typed BigQuery parameters for the `@names` that `sql` uses (types by `bigquery_param_type`).

    Raises:
        TerminalWarehouseError: the SQL uses a parameter that has no value.
    """
    out: list[Any] = []
    for name in _parameter_names(sql):
        if params is None or name not in params:
            raise TerminalWarehouseError(f"query parameter @{name} has no value")
        type_name = bigquery_param_type(params[name])
        value = python_value(params[name], type_name)
        if type_name.startswith("ARRAY<"):
            out.append(bigquery.ArrayQueryParameter(name, type_name[len("ARRAY<") : -1], value))
        else:
            out.append(bigquery.ScalarQueryParameter(name, type_name, value))
    return out


def frame_from_arrow(table: pa.Table) -> pd.DataFrame:
    """A result frame with the dtypes the DuckDB backend gives (so callers see one shape).

    NUMERIC becomes float64, DATE datetime64[us], TIMESTAMP datetime64[us, UTC], integers
    int64 (Int64 when NULLs occur), booleans bool (boolean with NULLs), arrays numpy arrays.
    """
    columns: dict[str, pd.Series] = {}
    for name, column in zip(table.column_names, table.columns):
        t = column.type
        if pa.types.is_decimal(t):  # via text: Arrow's decimal→float cast is not correctly rounded
            series = column.cast(pa.string()).cast(pa.float64()).to_pandas()
        elif pa.types.is_date(t):
            series = column.cast(pa.timestamp("us")).to_pandas().astype("datetime64[us]")
        elif pa.types.is_timestamp(t):
            series = column.cast(pa.timestamp("us", tz="UTC")).to_pandas().astype("datetime64[us, UTC]")
        elif pa.types.is_integer(t):
            series = column.to_pandas(integer_object_nulls=False)
            series = series.astype("Int64") if column.null_count else series.astype("int64")
        elif pa.types.is_boolean(t):
            series = column.to_pandas().astype("boolean" if column.null_count else "bool")
        else:
            series = column.to_pandas()
        columns[name] = series.reset_index(drop=True)
    return pd.DataFrame(columns, index=pd.RangeIndex(table.num_rows))


def _rows_outside(data: pa.Table, column: str, days: Sequence[dt.date]) -> dt.date | None:
    """A partition value of `data` that is not among `days` (rows must lie in the replaced days)."""
    if data.num_rows == 0:
        return None
    inside = pc.fill_null(pc.is_in(data.column(column), value_set=pa.array(list(days), type=pa.date32())), False)
    if pc.all(inside).as_py():
        return None
    return pc.filter(data.column(column), pc.invert(inside))[0].as_py()


class BigQueryWarehouse:
    """Warehouse protocol on BigQuery; `endpoint` points the client at a local fake (anonymous)."""

    kind = "bigquery"
    supports_merge = True
    #: BigQuery's quota of load jobs per table and day; the runner refuses runs that would exceed it.
    load_jobs_per_table_per_day = 1500

    def __init__(self, project: str, location: str | None = None, endpoint: str | None = None,
                 dataset_prefix: str = "", *, retry: RetryPolicy | None = None, client: Any = None,
                 url: str | None = None) -> None:
        self.project = project
        self.location = location
        self.endpoint = endpoint
        self.dataset_prefix = dataset_prefix
        self.retry = retry or RetryPolicy()
        options = {"location": location, "endpoint": endpoint, "dataset_prefix": dataset_prefix}
        query = "&".join(f"{k}={v}" for k, v in options.items() if v)
        self.url = url or f"bigquery://{project}" + (f"?{query}" if query else "")
        self.statements = 0
        #: Load jobs issued per registry table (replace_partitions loads into its staging table).
        self.load_jobs: Counter[str] = Counter()
        #: The runner turns this off for --skip-preflight (tables.md §1.6 expiration check).
        self.check_partition_expiration = True
        self._client = client
        self._fetched: dict[str, Any] = {}

    # -- names and client ---------------------------------------------------------------

    def dataset_id(self, dataset: str) -> str:
        return f"{self.project}.{self.dataset_prefix}{dataset}"

    def table_id(self, name: str) -> str:
        """`project.<prefix>dataset.table` of a registry name (no backticks)."""
        dataset, _, table = name.partition(".")
        return f"{self.dataset_id(dataset)}.{table}"

    def qualify(self, sql: str) -> str:
        """`sql` with every registry name rewritten to its backticked BigQuery name (scripts too)."""
        return qualify_script(sql, f"{self.project}.{self.dataset_prefix}")

    @property
    def client(self) -> bigquery.Client:
        """The client, built on first use (anonymous against an endpoint, else default credentials)."""
        if self._client is None:
            try:
                if self.endpoint:
                    from google.auth.credentials import AnonymousCredentials

                    self._client = bigquery.Client(project=self.project, location=self.location,
                                                   credentials=AnonymousCredentials(),
                                                   client_options={"api_endpoint": self.endpoint})
                else:
                    self._client = bigquery.Client(project=self.project, location=self.location)
            except SETUP_ERRORS as exc:
                raise map_error(exc, "client setup") from exc
        return self._client

    @functools.cached_property
    def _use_storage_api(self) -> bool:
        """Read results through the Storage API when it is installed (much faster than JSON pages)."""
        return self.endpoint is None and importlib.util.find_spec("google.cloud.bigquery_storage") is not None

    # -- reading --------------------------------------------------------------------------

    def _run(self, sql: str, params: Params | None, what: str) -> Any:
        text = self.qualify(sql)
        config = bigquery.QueryJobConfig(query_parameters=query_parameters(sql, params), use_legacy_sql=False)

        def call() -> Any:
            job = self.client.query(text, job_config=config, location=self.location, retry=None, job_retry=None)
            return job.result(retry=None, job_retry=None)

        self.statements += 1
        return with_retry(self.retry, what, call)

    def query(self, sql: str, params: Params | None = None) -> pd.DataFrame:
        """Run a SELECT and return its rows (dtypes as the DuckDB backend gives them)."""
        rows = self._run(sql, params, "query")
        storage = self._use_storage_api
        arrow = with_retry(self.retry, "query results", lambda: rows.to_arrow(create_bqstorage_client=storage))
        return frame_from_arrow(arrow)

    def estimate_bytes(self, sql: str, params: Params | None = None) -> int | None:
        """Bytes a SELECT would process, from a query dry run (free, runs nothing); None when unknown.

        Dry runs are not counted in `statements`: they cost no slot time and no money.
        """
        config = bigquery.QueryJobConfig(query_parameters=query_parameters(sql, params), use_legacy_sql=False,
                                         dry_run=True, use_query_cache=False)
        text = self.qualify(sql)

        def call() -> int | None:
            job = self.client.query(text, job_config=config, location=self.location, retry=None, job_retry=None)
            return job.total_bytes_processed

        try:
            return with_retry(self.retry, "dry run", call)
        except TableNotFound:
            return None

    def execute(self, sql: str, params: Params | None = None) -> None:
        """Run a statement or script (DDL, DML, BEGIN ... COMMIT TRANSACTION)."""
        self._run(sql, params, "statement")

    def table_exists(self, name: str) -> bool:
        self.statements += 1
        try:
            self._get_table(name, cached=False)
        except TableNotFound:
            return False
        return True

    def _get_table(self, name: str, cached: bool = True) -> Any:
        """The API's table resource (cached per run: schema and options do not change under us).

        Raises:
            TableNotFound: the table does not exist.
        """
        if not (cached and name in self._fetched):
            self._fetched[name] = with_retry(
                self.retry, f"lookup of {name}", lambda: self.client.get_table(self.table_id(name), retry=None)
            )
        return self._fetched[name]

    def table_options(self, name: str) -> bqs.TableOptions:
        """Partitioning, expiration, partition-filter and clustering options of an existing table."""
        return bqs.table_options(self._get_table(name, cached=False))

    # -- creating -------------------------------------------------------------------------

    def create_tables(self, tables: Iterable[TableSpec]) -> None:
        """Create missing datasets and tables from the contract (and the failures view with the units table).

        Existing tables are left as they are, except that the contract's additive columns
        (`TableSpec.added_columns`) are added with ADD COLUMN IF NOT EXISTS: this is the
        schema-setup step of tables.md §1.6. Any other difference stops with the statements to run.

        Existing datasets and tables are only looked up, never re-inserted: an insert of an
        existing dataset needs `bigquery.datasets.create` on the project (and of a table,
        `tables.create` on a read-only input dataset) even though it ends in "already exists",
        so a least-privilege service account could not start a run otherwise.
        """
        tables = list(tables)
        for dataset in dict.fromkeys(t.dataset for t in tables):
            self._ensure_dataset(dataset)
        for table in tables:
            self._create_table(table)
        if any(t.name == UNITS_TABLE for t in tables):
            try:
                self._get_table(FAILURES_VIEW, cached=False)
            except TableNotFound:
                view = bigquery.Table(self.table_id(FAILURES_VIEW))
                view.view_query = self.qualify(FAILURES_VIEW_SQL)
                with_retry(self.retry, f"creation of {FAILURES_VIEW}",
                           lambda: self.client.create_table(view, exists_ok=True, retry=None))

    def _ensure_dataset(self, dataset: str) -> None:
        """Create `dataset` (in the URL's location) only when it does not exist."""
        dataset_id = self.dataset_id(dataset)
        try:
            with_retry(self.retry, f"lookup of dataset {dataset}",
                       lambda: self.client.get_dataset(dataset_id, retry=None))
            return
        except TableNotFound:
            pass
        ds = bigquery.Dataset(dataset_id)
        ds.location = self.location
        with_retry(self.retry, f"creation of dataset {dataset}",
                   lambda: self.client.create_dataset(ds, exists_ok=True, retry=None))

    def _create_table(self, table: TableSpec) -> None:
        self.statements += 1
        try:
            created = self._get_table(table.name, cached=False)
        except TableNotFound:
            definition = bqs.table_definition(table, self.table_id(table.name))
            created = with_retry(self.retry, f"creation of {table.name}",
                                 lambda: self.client.create_table(definition, exists_ok=True, retry=None))
        report = bqs.compare_schema(table, created)
        addable = [c for c in report.missing if c.name in table.added_columns]
        if addable:
            script = ";\n".join(bqs.add_column_statement(self.table_id(table.name), c) for c in addable)
            self.statements += 1
            with_retry(self.retry, f"schema setup of {table.name}", lambda: self._script(script))
            created = self._get_table(table.name, cached=False)
        problem = bqs.schema_problem(table, created, self.table_id(table.name))
        if problem:
            raise EnvironmentProblem(problem)
        self._fetched[table.name] = created

    def _script(self, text: str) -> None:
        """Run already-qualified BigQuery SQL (no parameters) and wait for it."""
        job = self.client.query(text, location=self.location, retry=None, job_retry=None)
        job.result(retry=None, job_retry=None)

    # -- writing --------------------------------------------------------------------------

    def check_writable(self, table: TableSpec, days: Sequence[dt.date], now: dt.datetime | None = None) -> None:
        """Stop before writing `days` into a table whose schema or partition expiration is wrong (§1.6).

        Raises:
            EnvironmentProblem: naming the table and the exact ALTER TABLE statements to run.
        """
        fetched = self._get_table(table.name)
        qualified = self.table_id(table.name)
        problem = bqs.schema_problem(table, fetched, qualified)
        if not problem and self.check_partition_expiration:
            problem = bqs.expiration_problem(table, fetched, days, now or dt.datetime.now(dt.timezone.utc), qualified)
        if problem:
            raise EnvironmentProblem(problem)

    def replace_partitions(self, table: TableSpec, days: Sequence[dt.date], rows: pd.DataFrame) -> None:
        """Atomically replace the partitions `days` of `table` with `rows` (load to staging, one transaction).

        Raises:
            RegistryError: `table` is not partitioned by a DATE column.
            ValidationError: rows violate the contract or lie outside `days`.
            EnvironmentProblem: the table's schema or partition expiration forbids the write.
        """
        column = table.partition
        if not column or table.partition_is_range or table.column(column).base_type != "DATE":
            raise RegistryError(f"{table.name} is not partitioned by a DATE column; use append")
        days = sorted(set(days))
        data = to_arrow(rows, table)
        outside = _rows_outside(data, column, days)
        if outside is not None:
            raise ValidationError(f"{table.name}: a row has {column} = {outside}, outside the partitions being replaced")
        if not days:
            return
        self.check_writable(table, days)
        staging = f"{self.dataset_id(table.dataset)}._staging_{table.table}_{uuid.uuid4().hex[:12]}"
        self._create_staging(table, staging)
        try:
            self._load(table, staging, data, bigquery.WriteDisposition.WRITE_TRUNCATE)
            target = self.table_id(table.name)
            cols = ", ".join(f"`{c}`" for c in table.column_names)
            script = (
                "BEGIN TRANSACTION;\n"
                f"DELETE FROM `{target}` WHERE `{column}` IN UNNEST(@days);\n"
                f"INSERT INTO `{target}` ({cols}) SELECT {cols} FROM `{staging}`;\n"
                "COMMIT TRANSACTION;"
            )
            config = bigquery.QueryJobConfig(
                query_parameters=[bigquery.ArrayQueryParameter("days", "DATE", days)], use_legacy_sql=False
            )

            def call() -> None:
                job = self.client.query(script, job_config=config, location=self.location, retry=None, job_retry=None)
                job.result(retry=None, job_retry=None)

            self.statements += 1
            with_retry(self.retry, f"partition replacement of {table.name}", call)
        finally:
            self._drop_staging(staging)

    def append(self, table: TableSpec, rows: pd.DataFrame) -> None:
        """Append `rows` to `table` with one load job (nothing for an empty frame)."""
        data = to_arrow(rows, table)
        if data.num_rows == 0:
            return
        self._load(table, self.table_id(table.name), data, bigquery.WriteDisposition.WRITE_APPEND)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- internals ------------------------------------------------------------------------

    def _create_staging(self, table: TableSpec, staging: str) -> None:
        definition = bigquery.Table(staging, schema=bqs.schema(table))
        definition.expires = dt.datetime.now(dt.timezone.utc) + _STAGING_LIFETIME
        with_retry(self.retry, f"staging table for {table.name}",
                   lambda: self.client.create_table(definition, exists_ok=True, retry=None))

    def _drop_staging(self, staging: str) -> None:
        try:
            self.client.delete_table(staging, not_found_ok=True, retry=None)
        except DRIVER_ERRORS as exc:  # it expires by itself within a day
            log.warning("could not drop staging table %s: %s", staging, exc)

    def _load(self, table: TableSpec, destination: str, data: pa.Table, disposition: str) -> None:
        """One parquet load job of `data` into `destination` (an existing table)."""
        buffer = io.BytesIO()
        pq.write_table(data, buffer)
        payload = buffer.getvalue()
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET,
            write_disposition=disposition,
            create_disposition=bigquery.CreateDisposition.CREATE_NEVER,
            schema=bqs.schema(table),
        )
        parquet_options = bigquery.ParquetOptions()
        parquet_options.enable_list_inference = True
        config.parquet_options = parquet_options

        def call() -> None:
            job = self.client.load_table_from_file(
                io.BytesIO(payload), destination, job_config=config, location=self.location,
                size=len(payload) if len(payload) < _MULTIPART_LIMIT else None, num_retries=0,
            )
            job.result(retry=None)

        self.statements += 1
        self.load_jobs[table.name] += 1
        with_retry(self.retry, f"load into {table.name}", call)

    def __enter__(self) -> BigQueryWarehouse:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
