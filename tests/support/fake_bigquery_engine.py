"""The DuckDB side of the fake BigQuery endpoint: schemas, scripts, loads and REST value encoding.

Kept apart from the HTTP plumbing in `fake_bigquery.py` so the translation rules (BigQuery
schema field <-> DuckDB type, REST parameter -> Python value, Python value -> REST cell) can
be read in one place.
"""
from __future__ import annotations

import datetime as dt
import decimal
import io
import math
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp

from nba_backfill.errors import WarehouseError
from nba_backfill.sql.dialect import to_duckdb, translate
from nba_backfill.sql.params import duckdb_type


class JobFailure(Exception):
    """A job-level error with BigQuery's reason and HTTP status."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message


_DUCK_TYPES = {
    "STRING": "VARCHAR", "INTEGER": "BIGINT", "INT64": "BIGINT", "FLOAT": "DOUBLE", "FLOAT64": "DOUBLE",
    "BOOLEAN": "BOOLEAN", "BOOL": "BOOLEAN", "DATE": "DATE", "TIMESTAMP": "TIMESTAMPTZ",
    "DATETIME": "TIMESTAMP", "JSON": "JSON", "BYTES": "BLOB", "TIME": "TIME",
}


def duck_type(field: dict[str, Any]) -> str:
    """DuckDB column type of one BigQuery API schema field."""
    t = field["type"].upper()
    if t in ("NUMERIC", "BIGNUMERIC"):
        p, s = int(field.get("precision") or 38), int(field.get("scale") or 9)
        base = f"DECIMAL({min(p, 38)},{s})"
    else:
        base = _DUCK_TYPES[t]
    return base + "[]" if field.get("mode") == "REPEATED" else base


def bq_field(name: str, duck: str) -> dict[str, Any]:
    """BigQuery result schema field for a DuckDB result type name."""
    if duck.endswith("[]"):
        inner = bq_field(name, duck[:-2])
        return {**inner, "mode": "REPEATED"}
    if duck.startswith("DECIMAL"):
        t = "NUMERIC"
    elif duck in ("VARCHAR", "UUID"):
        t = "STRING"
    elif duck in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT", "NULL"):
        t = "INTEGER"
    elif duck in ("DOUBLE", "FLOAT", "REAL"):
        t = "FLOAT"
    elif duck == "TIMESTAMP WITH TIME ZONE":
        t = "TIMESTAMP"
    elif duck.startswith("TIMESTAMP"):
        t = "DATETIME"
    elif duck in ("BOOLEAN", "DATE", "JSON", "TIME"):
        t = duck
    elif duck == "BLOB":
        t = "BYTES"
    else:
        t = "STRING"
    return {"name": name, "type": t, "mode": "NULLABLE"}


def _arrow_duck_type(t: pa.DataType) -> str:
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return _arrow_duck_type(t.value_type) + "[]"
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision},{t.scale})"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP WITH TIME ZONE" if t.tz else "TIMESTAMP"
    for check, name in ((pa.types.is_integer, "BIGINT"), (pa.types.is_floating, "DOUBLE"),
                        (pa.types.is_boolean, "BOOLEAN"), (pa.types.is_date, "DATE")):
        if check(t):
            return name
    return "VARCHAR"


def fields_from_arrow(schema: pa.Schema) -> list[dict[str, Any]]:
    """Schema of a table created by a load job without an explicit schema."""
    return [bq_field(f.name, _arrow_duck_type(f.type)) for f in schema]


# ---------------------------------------------------------------- parameters


def _scalar(ptype: str, value: Any) -> Any:
    if value is None:
        return None
    ptype = ptype.upper()
    if ptype in ("INT64", "INTEGER"):
        return int(value)
    if ptype in ("FLOAT64", "FLOAT"):
        return float(value)
    if ptype in ("BOOL", "BOOLEAN"):
        return str(value).lower() == "true"
    if ptype == "DATE":
        return dt.date.fromisoformat(value)
    if ptype == "TIMESTAMP":
        v = dt.datetime.fromisoformat(str(value).replace(" UTC", "+00:00"))
        return v if v.tzinfo else v.replace(tzinfo=dt.timezone.utc)
    if ptype == "DATETIME":
        return dt.datetime.fromisoformat(value)
    if ptype in ("NUMERIC", "BIGNUMERIC"):
        return decimal.Decimal(value)
    return value


_TYPE_NAMES = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL", "BIGNUMERIC": "NUMERIC"}


def decode_params(query_parameters: list[dict[str, Any]] | None) -> dict[str, Any]:
    """REST `queryParameters` (named mode) -> {name: duckdb.Value} typed as the request says."""
    out: dict[str, Any] = {}
    for p in query_parameters or []:
        ptype, pval = p["parameterType"], p.get("parameterValue") or {}
        if ptype["type"].upper() == "ARRAY":
            elem = ptype["arrayType"]["type"].upper()
            value: Any = [_scalar(elem, v.get("value")) for v in pval.get("arrayValues") or []]
            type_name = f"ARRAY<{_TYPE_NAMES.get(elem, elem)}>"
        else:
            value = _scalar(ptype["type"], pval.get("value"))
            type_name = _TYPE_NAMES.get(ptype["type"].upper(), ptype["type"].upper())
        out[p["name"]] = duckdb.Value(value, duckdb_type(type_name))
    return out


# ---------------------------------------------------------------- result encoding


def _cell(value: Any, btype: str, int64_ts: bool) -> Any:
    if value is None:
        return None
    if btype == "INTEGER":
        return str(int(value))
    if btype == "FLOAT":
        v = float(value)
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return repr(v)
    if btype == "NUMERIC":
        d = decimal.Decimal(value)
        return "0" if d == 0 else format(d.normalize(), "f")
    if btype == "BOOLEAN":
        return "true" if value else "false"
    if btype == "DATE":
        return value.isoformat()
    if btype == "TIMESTAMP":
        v = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
        micros = (v - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(microseconds=1)
        return str(micros) if int64_ts else repr(micros / 1e6)
    if btype in ("DATETIME", "TIME"):
        return value.isoformat()
    return str(value)


def encode_rows(fields: list[dict[str, Any]], rows: list[tuple], int64_ts: bool) -> list[dict[str, Any]]:
    """Rows in BigQuery's REST shape: {"f": [{"v": cell}, ...]}, REPEATED as {"v": [{"v": x}]}."""
    out = []
    for row in rows:
        cells = []
        for f, v in zip(fields, row):
            if f.get("mode") == "REPEATED":
                cells.append({"v": [{"v": _cell(x, f["type"], int64_ts)} for x in (v or [])]})
            else:
                cells.append({"v": _cell(v, f["type"], int64_ts)})
        out.append({"f": cells})
    return out


# ---------------------------------------------------------------- the engine


class Result:
    """Outcome of one job: result schema fields and raw rows, plus DML counts."""

    def __init__(self, fields: list[dict[str, Any]] | None = None, rows: list[tuple] | None = None,
                 affected: int | None = None, statement_type: str = "SELECT") -> None:
        self.fields, self.rows, self.affected, self.statement_type = fields or [], rows or [], affected, statement_type


class Engine:
    """An in-memory DuckDB holding every dataset of the fake as a schema (projects are ignored)."""

    def __init__(self) -> None:
        self.con = duckdb.connect(":memory:")
        self.con.execute("SET TimeZone='UTC'")
        #: table resources keyed by (dataset, table), kept as the API returned them
        self.tables: dict[tuple[str, str], dict[str, Any]] = {}

    # -- catalog
    def create_schema(self, dataset: str) -> None:
        self.con.execute(f'CREATE SCHEMA IF NOT EXISTS "{dataset}"')

    def create_table(self, dataset: str, table: str, resource: dict[str, Any]) -> None:
        fields = (resource.get("schema") or {}).get("fields") or []
        cols = ", ".join(
            f'"{f["name"]}" {duck_type(f)}' + (" NOT NULL" if f.get("mode") == "REQUIRED" else "") for f in fields
        )
        if "view" in resource:
            self.con.execute(f'CREATE VIEW "{dataset}"."{table}" AS {to_duckdb(resource["view"]["query"])}')
        else:
            self.con.execute(f'CREATE TABLE "{dataset}"."{table}" ({cols})')
        self.tables[(dataset, table)] = resource

    def drop_table(self, dataset: str, table: str) -> None:
        kind = "VIEW" if "view" in self.tables.get((dataset, table), {}) else "TABLE"
        self.con.execute(f'DROP {kind} IF EXISTS "{dataset}"."{table}"')
        self.tables.pop((dataset, table), None)

    def catalog_fields(self, dataset: str, table: str) -> tuple[str, list[dict[str, Any]]] | None:
        """(TABLE|VIEW, fields) of a relation DuckDB knows (created by SQL), or None."""
        kinds = self.con.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [dataset, table]
        ).fetchall()
        if not kinds:
            return None
        cols = self.con.execute(f'SELECT * FROM "{dataset}"."{table}" LIMIT 0').description
        kind = "VIEW" if kinds[0][0] == "VIEW" else "TABLE"
        return kind, [bq_field(c[0], str(c[1])) for c in cols]

    # -- queries
    def run_script(self, sql: str, params: dict[str, Any]) -> Result:
        """Run one query or a multi-statement script; a failing script rolls its transaction back."""
        try:
            statements = [s for s in sqlglot.parse(sql, read="bigquery") if s is not None]
        except sqlglot.errors.ParseError as exc:
            raise JobFailure(400, "invalidQuery", f"Syntax error: {exc}") from exc
        in_tx = False
        result = Result(statement_type="SCRIPT" if len(statements) > 1 else "SELECT")
        try:
            for stmt in statements:
                if isinstance(stmt, exp.Transaction):
                    self.con.begin()
                    in_tx = True
                elif isinstance(stmt, exp.Commit):
                    self.con.commit()
                    in_tx = False
                elif isinstance(stmt, exp.Rollback):
                    self.con.rollback()
                    in_tx = False
                else:
                    result = self._statement(stmt, params, script=len(statements) > 1) or result
        except JobFailure:
            if in_tx:
                self.con.rollback()
            raise
        except duckdb.Error as exc:
            if in_tx:
                self.con.rollback()
            raise _failure(exc) from exc
        return result

    def _statement(self, stmt: exp.Expression, params: dict[str, Any], script: bool) -> Result | None:
        if isinstance(stmt, exp.Alter) and self._alter(stmt):
            return None
        try:
            translation = translate(stmt.sql(dialect="bigquery"))
        except WarehouseError as exc:
            raise JobFailure(400, "invalidQuery", str(exc)) from exc
        missing = [n for n in translation.params if n not in params]
        if missing:
            raise JobFailure(400, "invalidQuery", f"Query parameter '{missing[0]}' not found")
        cur = self.con.execute(translation.sql, {n: params[n] for n in translation.params})
        if isinstance(stmt, exp.Query):
            fields = [bq_field(c[0], str(c[1])) for c in cur.description]
            return Result(fields, cur.fetchall(), statement_type="SELECT")
        if isinstance(stmt, (exp.Insert, exp.Delete, exp.Update, exp.Merge)):
            n = cur.fetchone()
            return Result(affected=int(n[0]) if n else 0, statement_type=type(stmt).__name__.upper())
        if isinstance(stmt, exp.Create) and stmt.args.get("kind") == "VIEW":
            table = stmt.this.this if isinstance(stmt.this, exp.Schema) else stmt.this
            self.tables.pop((table.db, table.name), None)
        return None if script else Result(statement_type=type(stmt).__name__.upper())

    def _alter(self, stmt: exp.Alter) -> bool:
        """Keep table resources in step with ALTER TABLE; True when the fake fully handled it."""
        table = stmt.this
        key = (table.db, table.name)
        resource = self.tables.get(key)
        if resource is None:
            return False
        handled = False
        for action in stmt.args.get("actions") or []:
            if isinstance(action, exp.AlterSet):
                for props in action.expressions:
                    for prop in props.expressions:
                        name = prop.this.name.lower()
                        value = None if isinstance(prop.args["value"], exp.Null) else prop.args["value"].name
                        if name == "partition_expiration_days":
                            tp = resource.get("timePartitioning")
                            if tp is not None:
                                if value is None:
                                    tp.pop("expirationMs", None)
                                else:
                                    tp["expirationMs"] = str(int(float(value) * 86_400_000))
                        elif name == "require_partition_filter":
                            resource["requirePartitionFilter"] = str(value).lower() == "true"
                handled = True
            elif isinstance(action, exp.ColumnDef):
                names = {f["name"] for f in resource["schema"]["fields"]}
                if action.name not in names:
                    duck = str(self.con.execute(
                        f"SELECT CAST(NULL AS {action.args['kind'].sql(dialect='duckdb')})"
                    ).description[0][1])
                    resource["schema"]["fields"].append(bq_field(action.name, duck))
        return handled

    # -- loads
    def load_parquet(self, dataset: str, table: str, data: bytes, config: dict[str, Any]) -> int:
        """Load parquet bytes per a load job configuration; returns rows written."""
        arrow = pq.read_table(io.BytesIO(data))
        base, _, decorator = table.partition("$")
        key = (dataset, base)
        exists = key in self.tables or self.catalog_fields(dataset, base) is not None
        if not exists:
            if config.get("createDisposition") == "CREATE_NEVER":
                raise JobFailure(404, "notFound", f"Not found: Table {dataset}.{base}")
            fields = (config.get("schema") or {}).get("fields") or fields_from_arrow(arrow.schema)
            resource = {"tableReference": config["destinationTable"] | {"tableId": base}, "schema": {"fields": fields}}
            for opt in ("timePartitioning", "rangePartitioning", "clustering"):
                if opt in config:
                    resource[opt] = config[opt]
            self.create_table(dataset, base, resource)
        target = f'"{dataset}"."{base}"'
        disposition = config.get("writeDisposition") or "WRITE_APPEND"
        self.con.begin()
        try:
            if disposition == "WRITE_TRUNCATE":
                if decorator:
                    col = (self.tables[key].get("timePartitioning") or {}).get("field")
                    day = dt.datetime.strptime(decorator, "%Y%m%d").date()
                    self.con.execute(f'DELETE FROM {target} WHERE "{col}" = ?', [day])
                else:
                    self.con.execute(f"DELETE FROM {target}")
            elif disposition == "WRITE_EMPTY" and self.con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]:
                raise JobFailure(400, "invalid", f"Already Exists: Table {dataset}.{base} is not empty")
            if arrow.num_rows:
                self.con.register("_fake_load_src", arrow)
                try:
                    self.con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM _fake_load_src")
                finally:
                    self.con.unregister("_fake_load_src")
            self.con.commit()
        except duckdb.Error as exc:
            self.con.rollback()
            raise _failure(exc) from exc
        except JobFailure:
            self.con.rollback()
            raise
        return arrow.num_rows


def _failure(exc: duckdb.Error) -> JobFailure:
    text = str(exc)
    if isinstance(exc, duckdb.CatalogException):
        return JobFailure(404, "notFound", f"Not found: {text}")
    if isinstance(exc, duckdb.TransactionException):
        return JobFailure(400, "invalidQuery", f"Could not serialize access to table due to concurrent update: {text}")
    return JobFailure(400, "invalidQuery", text)
