"""Every statement the tool sends constrains the partition column of the tables that require it.

BigQuery refuses a query on a table with `require_partition_filter = true` (tables.md §1.4:
`nba_raw.nbac_schedule`, `nba_raw.bettingpros_player_points_props`,
`nba_analytics.team_offense_game_summary`) unless its WHERE clause filters the partition
column, and the contract asks the same of every partitioned contract table (cost). The
DuckDB backend cannot notice a missing filter, so this file parses the statements
themselves: `partition_filter_violations` is the checker (the BigQuery chain test applies it
to the statements the fake endpoint received), and the tests below record every statement
sent through the warehouse while the CLI runs the whole chain on DuckDB.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from nba_backfill.tables import TABLES, TableSpec

#: Tables BigQuery refuses to scan without a partition filter (tables.md §1.4).
REQUIRED = {name: t for name, t in TABLES.items() if t.require_partition_filter}
#: Every date-partitioned table of the contract (ledger tables excluded: they are the tool's own).
PARTITIONED = {name: t for name, t in TABLES.items()
               if t.partition and not t.partition_is_range and t.role != "ledger"}

_COMPARISONS = (exp.EQ, exp.GT, exp.GTE, exp.LT, exp.LTE)


def _registry_name(table: exp.Table, dataset_prefix: str) -> str | None:
    """`dataset.table` of a reference (`dataset.table`, or `project.<prefix>dataset.table` as sent to BigQuery)."""
    dataset = table.db
    if not dataset or not table.name:
        return None
    if dataset_prefix and dataset.startswith(dataset_prefix):
        dataset = dataset[len(dataset_prefix):]
    return f"{dataset}.{table.name}"


def _is_partition_column(node: exp.Expression, column: str, names: set[str]) -> bool:
    return (isinstance(node, exp.Column) and node.name.lower() == column.lower()
            and (not node.table or node.table in names))


def _constant(node: exp.Expression | None) -> bool:
    """No column inside: parameters, literals and functions of them (what partition pruning can use)."""
    return node is not None and node.find(exp.Column) is None


def _constrains(pred: exp.Expression, column: str, names: set[str]) -> bool:
    """Whether `pred` (one conjunct of a WHERE) bounds the partition column by constants."""
    while isinstance(pred, exp.Paren):
        pred = pred.this
    if isinstance(pred, exp.And):
        return _constrains(pred.left, column, names) or _constrains(pred.right, column, names)
    if isinstance(pred, exp.Or):
        return _constrains(pred.left, column, names) and _constrains(pred.right, column, names)
    if isinstance(pred, exp.Between):
        return (_is_partition_column(pred.this, column, names) and _constant(pred.args.get("low"))
                and _constant(pred.args.get("high")))
    if isinstance(pred, _COMPARISONS):
        left, right = pred.left, pred.right
        return ((_is_partition_column(left, column, names) and _constant(right))
                or (_is_partition_column(right, column, names) and _constant(left)))
    if isinstance(pred, exp.In):
        if not _is_partition_column(pred.this, column, names):
            return False
        unnest = pred.args.get("unnest")
        if unnest is not None:
            return _constant(unnest)
        return bool(pred.expressions) and all(_constant(e) for e in pred.expressions)
    return False


def _scope_where(table: exp.Table) -> tuple[exp.Expression | None, str]:
    """(the WHERE condition of the statement or SELECT that reads `table`, a label of that scope)."""
    node: exp.Expression | None = table.parent
    while node is not None:
        if isinstance(node, exp.Insert) and node.this is table or (
                isinstance(node, exp.Schema) and isinstance(node.parent, exp.Insert)):
            return None, "insert-target"
        if isinstance(node, (exp.Select, exp.Delete, exp.Update)):
            where = node.args.get("where")
            return (where.this if where is not None else None), type(node).__name__.upper()
        if isinstance(node, (exp.Merge, exp.Create)):
            return None, type(node).__name__.upper()
        node = node.parent
    return None, "?"


def partition_filter_violations(sql: str, tables: Mapping[str, TableSpec] | None = None,
                                dataset_prefix: str = "") -> list[str]:
    """One message per reference in `sql` (a statement or script) to a table of `tables`
    (default: those that require a partition filter) whose reading scope does not bound the
    partition column in its WHERE clause. Rows inserted into such a table need no filter.
    """
    tables = REQUIRED if tables is None else tables
    out: list[str] = []
    for statement in sqlglot.parse(sql, read="bigquery"):
        if statement is None:
            continue
        ctes = {c.alias_or_name for c in statement.find_all(exp.CTE)}
        for table in statement.find_all(exp.Table):
            name = _registry_name(table, dataset_prefix)
            if name not in tables or table.name in ctes and not table.db:
                continue
            where, scope = _scope_where(table)
            if scope == "insert-target":
                continue
            column = tables[name].partition
            names = {table.name, table.alias_or_name}
            if where is None or not _constrains(where, column, names):
                out.append(f"{name}: no filter on {column} in the {scope} reading it: "
                           f"{' '.join(statement.sql(dialect='bigquery').split())[:300]}")
    return out


def all_violations(statements: Iterable[str], tables: Mapping[str, TableSpec] | None = None,
                   dataset_prefix: str = "") -> list[str]:
    return [v for sql in statements for v in partition_filter_violations(sql, tables, dataset_prefix)]


# ------------------------------------------------------------------------ the checker itself


@pytest.mark.parametrize("sql", [
    "SELECT * FROM nba_raw.nbac_schedule WHERE game_date BETWEEN @lo AND @hi",
    "SELECT * FROM nba_raw.nbac_schedule AS s WHERE s.game_date = @d AND s.game_status = 3",
    "SELECT * FROM nba_raw.nbac_schedule WHERE (game_date >= DATE_SUB(@d, INTERVAL 7 DAY)) AND game_date <= @d",
    "SELECT * FROM nba_raw.nbac_schedule WHERE game_date IN UNNEST(@days)",
    "SELECT * FROM nba_raw.nbac_schedule WHERE game_date = @a OR game_date = @b",
    "DELETE FROM nba_raw.bettingpros_player_points_props WHERE game_date BETWEEN @start AND @end",
    "WITH s AS (SELECT game_id FROM nba_raw.nbac_schedule WHERE game_date = @d) SELECT * FROM s",
    "SELECT * FROM `p.t_nba_analytics.team_offense_game_summary` WHERE game_date < @d",
    "INSERT INTO nba_raw.nbac_schedule (game_id) SELECT 'x'",
    "SELECT * FROM nba_analytics.player_game_summary",  # partitioned, but no filter required
])
def test_accepts_statements_that_bound_the_partition(sql: str) -> None:
    assert partition_filter_violations(sql, dataset_prefix="t_") == []


@pytest.mark.parametrize("sql", [
    "SELECT * FROM nba_raw.nbac_schedule",
    "SELECT * FROM nba_raw.nbac_schedule WHERE game_status = 3",
    "SELECT * FROM nba_raw.nbac_schedule WHERE game_date = @a OR game_status = 3",
    "SELECT * FROM nba_raw.nbac_schedule WHERE game_date = other_date",
    "SELECT * FROM nba_raw.nbac_schedule AS s JOIN nba_raw.nbac_schedule AS t ON s.game_id = t.game_id "
    "WHERE s.game_date = @d",  # t is unbounded
    "SELECT * FROM nba_raw.nbac_schedule AS s WHERE x.game_date = @d",
    "SELECT * FROM (SELECT * FROM nba_raw.bettingpros_player_points_props) WHERE game_date = @d",
    "DELETE FROM nba_analytics.team_offense_game_summary WHERE season_year = 2021",
    "SELECT 1; SELECT * FROM `p.nba_raw.nbac_schedule`",
])
def test_flags_statements_that_do_not(sql: str) -> None:
    assert partition_filter_violations(sql) != []


def test_strict_mode_covers_every_partitioned_contract_table() -> None:
    sql = "SELECT * FROM nba_analytics.player_game_summary"
    assert partition_filter_violations(sql) == []
    assert partition_filter_violations(sql, PARTITIONED) != []
    assert set(REQUIRED) == {"nba_raw.nbac_schedule", "nba_raw.bettingpros_player_points_props",
                             "nba_analytics.team_offense_game_summary"}


# ------------------------------------------------------------------ what the tool really sends


class RecordingWarehouse:
    """A warehouse proxy that keeps the SQL text of every query and statement (BigQuery dialect)."""

    def __init__(self, inner: Any, log: list[str]) -> None:
        self._inner, self.log = inner, log

    def query(self, sql: str, params: Any = None) -> Any:
        self.log.append(sql)
        return self._inner.query(sql, params)

    def execute(self, sql: str, params: Any = None) -> None:
        self.log.append(sql)
        self._inner.execute(sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.fixture(scope="module")
def recorded(sample_db, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """SQL of every statement the CLI sends while it runs Phase 3, Phase 4, status, failures, props, verify."""
    import shutil

    from typer.testing import CliRunner

    import nba_backfill.warehouse as warehouse_pkg
    from nba_backfill.cli import app

    target = tmp_path_factory.mktemp("partition_filters") / "w.duckdb"
    shutil.copy(sample_db, target)
    url = f"duckdb:///{target}"
    log: list[str] = []
    real_connect = warehouse_pkg.connect
    start, end = "2021-10-19", "2021-11-05"
    commands = [
        ("phase3", "run", "--processor", "upcoming_player_game_context", "--start-date", start, "--end-date", end),
        ("phase4", "run", "--all", "--dry-run", "--start-date", start, "--end-date", end),
        ("phase4", "run", "--all", "--start-date", start, "--end-date", end),
        ("phase4", "run", "--processor", "player_daily_cache", "--dates", "2021-11-03,2021-11-04", "--force"),
        ("phase4", "status", "--start-date", start, "--end-date", end),
        ("phase4", "failures"),
        ("props", "check", "--start-date", "2021-11-01", "--end-date", "2021-11-03"),
        ("verify", "--start-date", start, "--end-date", end),
    ]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(warehouse_pkg, "connect", lambda u: RecordingWarehouse(real_connect(u), log))
        for args in commands:
            result = CliRunner().invoke(app, ["--warehouse", url, *args])
            assert result.exit_code in (0, 1), (args, result.output)
    return log


def test_every_statement_bounds_required_partition_filters(recorded: list[str]) -> None:
    """tables.md §1.4: BigQuery would refuse these statements outright."""
    assert any("nba_raw.nbac_schedule" in s for s in recorded)
    assert any("nba_raw.bettingpros_player_points_props" in s for s in recorded)
    assert any("nba_analytics.team_offense_game_summary" in s for s in recorded)
    assert all_violations(recorded) == []


def test_every_statement_bounds_every_partitioned_contract_table(recorded: list[str]) -> None:
    """tables.md §1.4: 'the tool constrains the partition column on every partitioned table anyway (cost)'."""
    assert all_violations(recorded, PARTITIONED) == []


def test_the_checker_sees_the_dates_it_is_given() -> None:
    """A guard for the guard: the recording proxy passes statements through unchanged."""
    log: list[str] = []

    class Inner:
        def query(self, sql: str, params: Any = None) -> Any:
            return params

    wh = RecordingWarehouse(Inner(), log)
    assert wh.query("SELECT * FROM nba_raw.nbac_schedule", {"d": dt.date(2021, 11, 1)}) == {"d": dt.date(2021, 11, 1)}
    assert all_violations(log) != []
