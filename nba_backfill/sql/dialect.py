"""Translate BigQuery Standard SQL into DuckDB SQL: sqlglot plus rewrites for the known traps.

sqlglot (pinned) does the bulk of the work; the rewrites below fix the places where a
literal transpilation runs on DuckDB but gives a different answer than BigQuery would:

- DATE_ADD / DATE_SUB / DATE_TRUNC return DATE in BigQuery, TIMESTAMP in DuckDB.
- UNNEST ... WITH OFFSET is 0-based in BigQuery; DuckDB's WITH ORDINALITY is 1-based.
- EXTRACT(DAYOFWEEK) is 1 = Sunday in BigQuery, 0 = Sunday in DuckDB; EXTRACT(WEEK) counts
  Sunday-based weeks (week 0 before the first Sunday), DuckDB's is ISO; ISOWEEK/ISOYEAR
  have other names; EXTRACT(DATE FROM ts) has no DuckDB spelling.
- ARRAY_AGG(... LIMIT n) has no DuckDB equivalent: aggregate, then slice.
- Float literals (0.5, 1e3) are FLOAT64 in BigQuery but DECIMAL in DuckDB.
- CAST(x AS NUMERIC) is NUMERIC(38,9) in BigQuery, DECIMAL(18,3) in DuckDB.
- `project.dataset.table` becomes `dataset.table` (one schema per dataset);
  `[dataset.]INFORMATION_SCHEMA.VIEW` becomes DuckDB's `information_schema.view`
  (restricted to the dataset's schema when one is named).
- Named parameters `@x` become `$x`.

SAFE_DIVIDE, IF, IFNULL, COUNTIF, QUALIFY, `IN UNNEST(@list)`, array subscripts and
`SELECT * EXCEPT` are translated correctly by sqlglot itself (and covered by tests).
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, SqlglotError

from nba_backfill.errors import TerminalWarehouseError

_DATE = exp.DataType.build("DATE")
_DOUBLE = exp.DataType.build("DOUBLE")
_BIGINT = exp.DataType.build("BIGINT")
#: BigQuery NUMERIC is NUMERIC(38, 9); a bare DuckDB DECIMAL would be DECIMAL(18, 3).
_BQ_NUMERIC = exp.DataType.build("DECIMAL(38, 9)", dialect="duckdb")


@dataclass(frozen=True)
class Translation:
    """DuckDB SQL for one BigQuery statement and the named parameters it uses."""

    sql: str
    params: tuple[str, ...]


def to_duckdb(sql: str) -> str:
    """DuckDB SQL with the semantics BigQuery gives `sql` (cached).

    Raises:
        TerminalWarehouseError: the text does not parse as BigQuery SQL or uses a
            construct DuckDB cannot express.
    """
    return translate(sql).sql


@functools.lru_cache(maxsize=1024)
def translate(sql: str) -> Translation:
    """Translate one BigQuery statement; also report its `@param` names (cached)."""
    try:
        tree = sqlglot.parse_one(sql, read="bigquery")
    except SqlglotError as exc:
        raise TerminalWarehouseError(f"cannot parse BigQuery SQL: {exc}") from exc
    params = tuple(sorted(parameter_names(tree)))
    tree = rewrite(tree)
    generator = Dialect.get_or_raise("duckdb").generator(unsupported_level=ErrorLevel.IGNORE)
    try:
        out = generator.generate(tree)
    except SqlglotError as exc:
        raise TerminalWarehouseError(f"cannot translate BigQuery SQL to DuckDB: {exc}") from exc
    problems = [m for m in generator.unsupported_messages if not _harmless(m)]
    if problems:
        raise TerminalWarehouseError(f"cannot translate BigQuery SQL to DuckDB: {'; '.join(problems)}")
    return Translation(out, params)


def _harmless(message: str) -> bool:
    """sqlglot warnings that do not apply here: the DuckDB session time zone is UTC, as BigQuery's."""
    return "timezone" in message.lower() or "time zone" in message.lower()


def parameter_names(tree: exp.Expression) -> set[str]:
    """Names of the `@params` a parsed BigQuery statement uses."""
    names: set[str] = set()
    for node in tree.find_all(exp.Parameter):
        inner = node.this
        names.add(inner.name if isinstance(inner, exp.Expression) else str(inner))
    return names


def rewrite(tree: exp.Expression) -> exp.Expression:
    """Apply every trap rewrite to a parsed BigQuery statement (returns a new tree)."""
    tree = tree.copy()
    for step in (_drop_project, _unnest_offsets, _array_agg_limits, _node_fixes):
        tree = step(tree)
    return tree


def _drop_project(tree: exp.Expression) -> exp.Expression:
    for table in list(tree.find_all(exp.Table)):
        if table.args.get("catalog") is not None:
            table.set("catalog", None)
        if table.name.lower().startswith("information_schema."):
            _information_schema(table)
    return tree


def _information_schema(table: exp.Table) -> None:
    """`[dataset.]INFORMATION_SCHEMA.VIEW` → DuckDB's `information_schema.view` (per dataset: filtered)."""
    view = table.name.split(".", 1)[1].lower()
    dataset = table.db
    alias = table.alias or view
    source = exp.Table(this=exp.to_identifier(view), db=exp.to_identifier("information_schema"))
    if not dataset:
        table.replace(exp.alias_(source, alias, table=True))
        return
    select = exp.select("*").from_(source).where(exp.column("table_schema").eq(exp.Literal.string(dataset)))
    table.replace(exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier(alias))))


def _wrap(node: exp.Expression, build: Callable[[exp.Expression], exp.Expression]) -> None:
    """Replace `node` in place by `build(node)` (which contains `node` itself)."""
    placeholder = exp.Null()
    node.replace(placeholder)
    placeholder.replace(build(node))


def _node_fixes(tree: exp.Expression) -> exp.Expression:
    """Per-node fixes that need no context beyond the node itself (collected first, then edited)."""
    nodes = list(tree.find_all(exp.DateAdd, exp.DateSub, exp.DateTrunc, exp.Literal, exp.DataType, exp.Extract))
    for node in nodes:
        if isinstance(node, (exp.DateAdd, exp.DateSub, exp.DateTrunc)):
            _wrap(node, lambda n: exp.Cast(this=n, to=_DATE.copy()))
        elif isinstance(node, exp.Literal):
            if not node.is_string and _is_float_text(node.this):
                _wrap(node, lambda n: exp.Cast(this=n, to=_DOUBLE.copy()))
        elif isinstance(node, exp.DataType):
            if node.this == exp.DataType.Type.DECIMAL and not node.expressions:
                node.replace(_BQ_NUMERIC.copy())
        else:
            _wrap(node, _extract)
    return tree


def _is_float_text(text: object) -> bool:
    s = str(text).lower()
    return "." in s or "e" in s


def _extract(node: exp.Expression) -> exp.Expression:
    part = node.name.upper()
    value = node.expression
    if part == "DAYOFWEEK":
        return exp.Paren(this=exp.Add(this=node, expression=exp.Literal.number(1)))
    if part == "WEEK":
        strftime = exp.Anonymous(this="STRFTIME", expressions=[value.copy(), exp.Literal.string("%U")])
        return exp.Cast(this=strftime, to=_BIGINT.copy())
    if part == "ISOWEEK":
        return exp.Extract(this=exp.var("WEEK"), expression=value)
    if part == "ISOYEAR":
        return exp.Extract(this=exp.var("ISOYEAR"), expression=value)
    if part == "DATE":
        return exp.Cast(this=value, to=_DATE.copy())
    return node


def _unnest_offsets(tree: exp.Expression) -> exp.Expression:
    """`UNNEST(a) AS x WITH OFFSET AS o` in FROM/JOIN → a subquery that shifts o to 0-based."""
    targets = [u for u in tree.find_all(exp.Unnest) if u.args.get("offset") is not None]
    for n, unnest in enumerate(targets):
        if not isinstance(unnest.parent, (exp.From, exp.Join)):
            continue  # UNNEST(...) WITH OFFSET only exists in FROM in BigQuery
        offset = unnest.args["offset"]
        offset_name = offset.name if isinstance(offset, exp.Expression) else "offset"
        alias = unnest.args.get("alias")
        columns = list(alias.columns) if isinstance(alias, exp.TableAlias) else []
        value_name = columns[0].name if columns else f"_unnest_value{n}"
        inner = unnest.copy()
        inner.set("alias", exp.TableAlias(columns=[exp.to_identifier(value_name)]))
        inner.set("offset", exp.to_identifier(offset_name))
        shifted = exp.Sub(this=exp.column(offset_name), expression=exp.Literal.number(1))
        select = exp.select(exp.column(value_name), exp.alias_(shifted, offset_name)).from_(inner)
        unnest.replace(exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier(f"_unnest{n}"))))
    return tree


def _array_agg_limits(tree: exp.Expression) -> exp.Expression:
    """`ARRAY_AGG(x ORDER BY y LIMIT n)` → `LIST_SLICE(ARRAY_AGG(x ORDER BY y), 1, n)`."""
    for agg in list(tree.find_all(exp.ArrayAgg)):
        limit = agg.this
        if not isinstance(limit, exp.Limit):
            continue
        count = limit.expression
        agg.set("this", limit.this)
        outer: exp.Expression = agg
        while isinstance(outer.parent, (exp.IgnoreNulls, exp.RespectNulls, exp.Filter, exp.Window)):
            outer = outer.parent
        placeholder = exp.Null()
        outer.replace(placeholder)
        sliced = exp.Anonymous(this="LIST_SLICE", expressions=[outer, exp.Literal.number(1), count.copy()])
        placeholder.replace(sliced)
    return tree
