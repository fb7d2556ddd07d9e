"""Table references in BigQuery SQL: list them and rewrite registry names on the AST.

SQL in the tool names tables exactly as the registry does (`dataset.table`); each
backend maps those names to its own (for BigQuery `project.prefix_dataset.table`).
Working on the parsed tree, not on the text, means a column or string that happens to
spell a table name is never touched, and CTE names are never mistaken for tables.
"""
from __future__ import annotations

from collections.abc import Callable

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from nba_backfill.errors import TerminalWarehouseError


def _parse(sql: str) -> exp.Expression:
    try:
        return sqlglot.parse_one(sql, read="bigquery")
    except SqlglotError as exc:
        raise TerminalWarehouseError(f"cannot parse BigQuery SQL: {exc}") from exc


def _warehouse_tables(tree: exp.Expression) -> list[exp.Table]:
    """Table nodes that name a real table (`dataset.table`): CTE names never carry a dataset,
    and `dataset.INFORMATION_SCHEMA.X` is metadata, not a registry table."""
    return [t for t in tree.find_all(exp.Table) if t.name and t.db and "." not in t.name]


def registry_name(table: exp.Table) -> str:
    """`dataset.table` of a parsed table reference (any project part is dropped)."""
    return f"{table.db}.{table.name}"


def table_refs(sql: str) -> set[str]:
    """Every table `sql` reads or writes, as "dataset.table" (CTE names excluded)."""
    return {registry_name(t) for t in _warehouse_tables(_parse(sql))}


def qualify(sql: str, mapping: Callable[[str], str]) -> str:
    """Rewrite each `dataset.table` of `sql` to `mapping("dataset.table")` (BigQuery SQL out).

    `mapping` returns the backend's name for a registry name, with or without backticks,
    e.g. "`my-project.test_nba_raw.nbac_schedule`". Aliases are kept; a reference without
    an alias keeps its old table name as alias, so `nbac_schedule.game_date` still resolves.
    """
    tree = _parse(sql)
    for table in _warehouse_tables(tree):
        target = mapping(registry_name(table))
        new = exp.to_table(target.replace("`", ""), dialect="bigquery")
        for part in ("catalog", "db", "this"):
            node = new.args.get(part)
            if node is not None:
                node.set("quoted", True)
        alias = table.args.get("alias")
        if alias is None and table.name != new.name:
            alias = exp.TableAlias(this=exp.to_identifier(table.name))
        table.set("catalog", new.args.get("catalog"))
        table.set("db", new.args.get("db"))
        table.set("this", new.args.get("this"))
        if alias is not None:
            table.set("alias", alias)
    return tree.sql(dialect="bigquery")
