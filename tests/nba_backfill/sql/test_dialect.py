"""BigQuery → DuckDB translation (every trap executed on DuckDB against BigQuery's answer), naming, params."""
from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from nba_backfill.errors import TerminalWarehouseError
from nba_backfill.sql.dialect import to_duckdb, translate
from nba_backfill.sql.naming import qualify, table_refs
from nba_backfill.sql.params import bigquery_param_type, duckdb_params
from nba_backfill.warehouse.duckdb import DuckDBWarehouse


@pytest.fixture
def duck():
    warehouse = DuckDBWarehouse(":memory:")
    yield warehouse
    warehouse.close()


def one(duck, sql, params=None):
    rows = duck.query(sql, params).to_dict("records")
    assert len(rows) == 1, rows
    return rows[0]


# -- dates -------------------------------------------------------------------------------


def test_date_sub_and_add_return_dates(duck):
    # A TIMESTAMP would print as '2024-02-29 00:00:00'; BigQuery's DATE prints as below.
    row = one(
        duck,
        "SELECT CAST(DATE_SUB(DATE '2024-03-01', INTERVAL 1 DAY) AS STRING) AS s,"
        " CAST(DATE_ADD(@d, INTERVAL 3 DAY) AS STRING) AS a,"
        " CAST(DATE_ADD(DATE '2024-01-31', INTERVAL 1 MONTH) AS STRING) AS m",
        {"d": dt.date(2024, 12, 30)},
    )
    assert row == {"s": "2024-02-29", "a": "2025-01-02", "m": "2024-02-29"}


def test_date_sub_compares_with_date_column(duck):
    row = one(
        duck,
        "SELECT COUNT(*) AS n FROM UNNEST([DATE '2024-01-01', DATE '2024-01-05', DATE '2024-01-10']) AS d"
        " WHERE d BETWEEN DATE_SUB(@day, INTERVAL 5 DAY) AND @day",
        {"day": dt.date(2024, 1, 10)},
    )
    assert row["n"] == 2


@pytest.mark.parametrize(
    ("unit", "expected"),
    [("MONTH", "2024-03-01"), ("YEAR", "2024-01-01"), ("WEEK", "2024-03-10"), ("ISOWEEK", "2024-03-11")],
)
def test_date_trunc_returns_date_with_bigquery_weeks(duck, unit, expected):
    # 2024-03-15 is a Friday: BigQuery WEEK starts on Sunday (10th), ISOWEEK on Monday (11th).
    row = one(duck, f"SELECT CAST(DATE_TRUNC(DATE '2024-03-15', {unit}) AS STRING) AS t")
    assert row["t"] == expected


def test_date_diff_in_days(duck):
    assert one(duck, "SELECT DATE_DIFF(DATE '2024-03-15', DATE '2024-03-01', DAY) AS n")["n"] == 14


@pytest.mark.parametrize(
    ("day", "expected"),
    [("2024-03-17", 1), ("2024-03-18", 2), ("2024-03-16", 7)],  # Sunday, Monday, Saturday
)
def test_dayofweek_is_one_for_sunday(duck, day, expected):
    assert one(duck, f"SELECT EXTRACT(DAYOFWEEK FROM DATE '{day}') AS d")["d"] == expected


def test_week_numbers_follow_bigquery(duck):
    # 2024-01-07 is the first Sunday of 2024: BigQuery WEEK is 0 before it, 1 from it.
    row = one(
        duck,
        "SELECT EXTRACT(WEEK FROM DATE '2024-01-06') AS w0, EXTRACT(WEEK FROM DATE '2024-01-07') AS w1,"
        " EXTRACT(ISOWEEK FROM DATE '2024-01-07') AS iso, EXTRACT(DAYOFYEAR FROM DATE '2024-02-01') AS doy",
    )
    assert row == {"w0": 0, "w1": 1, "iso": 1, "doy": 32}


def test_session_time_zone_is_utc(duck):
    row = one(
        duck,
        "SELECT CAST(DATE(TIMESTAMP '2024-01-01 23:30:00-05') AS STRING) AS d,"
        " EXTRACT(HOUR FROM TIMESTAMP '2024-01-01 23:30:00+00') AS h,"
        " CAST(EXTRACT(DATE FROM TIMESTAMP '2024-01-01 23:30:00-05') AS STRING) AS e",
    )
    assert row == {"d": "2024-01-02", "h": 23, "e": "2024-01-02"}


# -- UNNEST and arrays ---------------------------------------------------------------------


def test_unnest_with_offset_is_zero_based(duck):
    frame = duck.query("SELECT x, pos FROM UNNEST(['a', 'b', 'c']) AS x WITH OFFSET AS pos ORDER BY pos")
    assert list(zip(frame["x"], frame["pos"])) == [("a", 0), ("b", 1), ("c", 2)]


def test_unnest_with_default_offset_name(duck):
    frame = duck.query("SELECT x, offset FROM UNNEST([10, 20]) AS x WITH OFFSET ORDER BY offset")
    assert frame["offset"].tolist() == [0, 1]
    assert frame["x"].tolist() == [10, 20]


def test_unnest_with_offset_in_a_lateral_join(duck):
    sql = (
        "WITH t AS (SELECT 'p1' AS k, ['x', 'y'] AS arr UNION ALL SELECT 'p2', ['z'])"
        " SELECT t.k, v, i FROM t CROSS JOIN UNNEST(t.arr) AS v WITH OFFSET AS i WHERE i = 0 ORDER BY t.k"
    )
    frame = duck.query(sql)
    assert list(zip(frame["k"], frame["v"], frame["i"])) == [("p1", "x", 0), ("p2", "z", 0)]


def test_array_subscripts(duck):
    row = one(duck, "SELECT [1, 2, 3][OFFSET(0)] AS a, [1, 2, 3][ORDINAL(3)] AS b, [1, 2, 3][SAFE_OFFSET(5)] AS c")
    assert row["a"] == 1 and row["b"] == 3 and pd.isna(row["c"])


def test_array_agg_with_limit(duck):
    sql = (
        "WITH t AS (SELECT 'a' AS k, 1 AS v UNION ALL SELECT 'a', 3 UNION ALL SELECT 'a', 2"
        " UNION ALL SELECT 'b', 5)"
        " SELECT k, ARRAY_AGG(v ORDER BY v DESC LIMIT 2) AS top FROM t GROUP BY k ORDER BY k"
    )
    frame = duck.query(sql)
    assert [list(x) for x in frame["top"]] == [[3, 2], [5]]


def test_array_agg_ignore_nulls_with_limit_then_offset(duck):
    sql = (
        "WITH t AS (SELECT 1 AS v, 1 AS o UNION ALL SELECT NULL, 0 UNION ALL SELECT 7, 2)"
        " SELECT ARRAY_AGG(v IGNORE NULLS ORDER BY o LIMIT 1)[OFFSET(0)] AS first_v FROM t"
    )
    assert one(duck, sql)["first_v"] == 1


def test_in_unnest_of_array_parameter(duck):
    sql = "SELECT COUNT(*) AS n FROM UNNEST([DATE '2024-01-01', DATE '2024-01-02']) AS d WHERE d IN UNNEST(@days)"
    assert one(duck, sql, {"days": [dt.date(2024, 1, 2)]})["n"] == 1
    assert one(duck, sql, {"days": []})["n"] == 0


# -- numbers -------------------------------------------------------------------------------


def test_float_literals_are_float64(duck):
    # DECIMAL arithmetic would give exactly 0.3; FLOAT64 gives the binary sum.
    row = one(duck, "SELECT 0.1 + 0.2 AS x, 1.5e3 AS y, -2.5 * 2 AS z")
    assert row["x"] == 0.1 + 0.2
    assert row["y"] == 1500.0 and row["z"] == -5.0


def test_division_is_float_and_safe_divide_is_null_on_zero(duck):
    row = one(duck, "SELECT 5 / 2 AS d, SAFE_DIVIDE(3, 2) AS a, SAFE_DIVIDE(1, 0) AS b, SAFE_DIVIDE(NULL, 1) AS c")
    assert row["d"] == 2.5 and row["a"] == 1.5
    assert math.isnan(row["b"]) and math.isnan(row["c"])


def test_cast_as_numeric_keeps_nine_decimals(duck):
    # A bare DuckDB DECIMAL is DECIMAL(18,3) and would give 1.235.
    assert one(duck, "SELECT CAST('1.23456' AS NUMERIC) AS n")["n"] == pytest.approx(1.23456, abs=1e-12)


def test_round_is_half_away_from_zero(duck):
    row = one(duck, "SELECT ROUND(2.5) AS a, ROUND(-2.5) AS b, ROUND(0.125, 2) AS c")
    assert row == {"a": 3.0, "b": -3.0, "c": 0.13}


def test_conditional_functions(duck):
    sql = (
        "WITH t AS (SELECT 1 AS x UNION ALL SELECT 5 UNION ALL SELECT NULL)"
        " SELECT COUNTIF(x > 1) AS c, SUM(IFNULL(x, 10)) AS s, MAX(IF(x > 1, 'big', 'small')) AS m FROM t"
    )
    assert one(duck, sql) == {"c": 1, "s": 16, "m": "small"}


def test_qualify_and_select_except(duck):
    sql = (
        "WITH t AS (SELECT 'a' AS k, 1 AS v UNION ALL SELECT 'a', 2 UNION ALL SELECT 'b', 3)"
        " SELECT * EXCEPT (rn) FROM (SELECT k, v, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) AS rn FROM t)"
        " WHERE rn = 1 ORDER BY k"
    )
    frame = duck.query(sql)
    assert list(frame.columns) == ["k", "v"]
    assert frame["v"].tolist() == [2, 3]
    qualified = duck.query(
        "WITH t AS (SELECT 'a' AS k, 1 AS v UNION ALL SELECT 'a', 2)"
        " SELECT k, v FROM t WHERE TRUE QUALIFY ROW_NUMBER() OVER (PARTITION BY k ORDER BY v) = 1"
    )
    assert qualified["v"].tolist() == [1]


# -- names and parameters ------------------------------------------------------------------


def test_project_is_dropped_from_table_names(duck):
    duck.execute("CREATE SCHEMA IF NOT EXISTS nba_raw")
    duck.execute("CREATE TABLE nba_raw.t AS SELECT 1 AS x")
    assert one(duck, "SELECT x FROM `nba-props-platform.nba_raw.t`")["x"] == 1
    assert one(duck, "SELECT x FROM `nba-props-platform`.nba_raw.t AS s WHERE s.x = 1")["x"] == 1


def test_information_schema_per_dataset(duck):
    duck.execute("CREATE SCHEMA IF NOT EXISTS nba_raw")
    duck.execute("CREATE SCHEMA IF NOT EXISTS nba_analytics")
    duck.execute("CREATE TABLE nba_raw.t AS SELECT 1 AS x, 'a' AS y")
    duck.execute("CREATE TABLE nba_analytics.t AS SELECT 1 AS z")
    frame = duck.query(
        "SELECT c.column_name FROM nba_raw.INFORMATION_SCHEMA.COLUMNS AS c WHERE c.table_name = @t"
        " ORDER BY c.ordinal_position",
        {"t": "t"},
    )
    assert frame["column_name"].tolist() == ["x", "y"]
    assert table_refs("SELECT * FROM nba_raw.INFORMATION_SCHEMA.COLUMNS") == set()


def test_named_parameters_become_dollar_parameters():
    out = to_duckdb("SELECT * FROM nba_raw.t WHERE game_date = @day AND team = @team")
    assert "$day" in out and "$team" in out and "@" not in out
    assert translate("SELECT @b, @a, @b").params == ("a", "b")


def test_parameters_of_every_type(duck):
    row = one(
        duck,
        "SELECT @s AS s, @i * @i AS big, @f AS f, @b AS b, CAST(@d AS STRING) AS d,"
        " CAST(@ts AS STRING) AS ts, ARRAY_LENGTH(@arr) AS n",
        {"s": "x", "i": 100_000, "f": 0.5, "b": True, "d": dt.date(2024, 1, 2),
         "ts": dt.datetime(2024, 1, 1, 12, 0), "arr": ["a", "b"]},
    )
    # @i * @i overflows a 32-bit integer: INT64 parameters must bind as BIGINT.
    assert row == {"s": "x", "big": 10_000_000_000, "f": 0.5, "b": True, "d": "2024-01-02",
                   "ts": "2024-01-01 12:00:00+00", "n": 2}


def test_translation_is_cached():
    sql = "SELECT 1 AS cached_probe_one"
    before = translate.cache_info().hits
    first = to_duckdb(sql)
    second = to_duckdb(sql)
    assert first == second
    assert translate.cache_info().hits >= before + 1


def test_unparsable_sql_is_a_terminal_warehouse_error():
    with pytest.raises(TerminalWarehouseError, match="cannot parse"):
        to_duckdb("SELECT FROM WHERE (")


# -- naming (nba_backfill.sql.naming) --------------------------------------------------------


def test_table_refs_lists_tables_not_ctes():
    sql = (
        "WITH recent AS (SELECT * FROM nba_analytics.player_game_summary WHERE game_date >= @start)"
        " SELECT r.player_lookup FROM recent AS r"
        " JOIN `nba-props-platform.nba_raw.nbac_schedule` AS s ON s.game_id = r.game_id"
        " WHERE r.game_id IN (SELECT game_id FROM nba_analytics.team_offense_game_summary)"
    )
    assert table_refs(sql) == {
        "nba_analytics.player_game_summary",
        "nba_raw.nbac_schedule",
        "nba_analytics.team_offense_game_summary",
    }


def test_qualify_rewrites_registry_names_and_keeps_aliases():
    sql = (
        "WITH s AS (SELECT game_id FROM nba_raw.nbac_schedule WHERE game_date = @day)"
        " SELECT p.player_lookup, player_game_summary.game_id"
        " FROM nba_analytics.player_game_summary JOIN s USING (game_id)"
        " JOIN nba_analytics.team_offense_game_summary AS p ON TRUE"
    )
    out = qualify(sql, lambda name: f"`my-proj.test_{name}`")
    assert table_refs(out) == {"test_nba_raw.nbac_schedule", "test_nba_analytics.player_game_summary",
                               "test_nba_analytics.team_offense_game_summary"}
    assert "FROM `my-proj`.`test_nba_raw`.`nbac_schedule` WHERE" in out
    assert "`test_nba_analytics`.`team_offense_game_summary` AS p ON" in out
    assert "JOIN s USING" in out  # the CTE reference is untouched
    assert "player_game_summary.game_id" in out  # unaliased names still resolve


def test_qualified_sql_runs_on_duckdb_after_translation(duck):
    duck.execute("CREATE SCHEMA IF NOT EXISTS x_nba_raw")
    duck.execute("CREATE TABLE x_nba_raw.t AS SELECT 7 AS v")
    out = qualify("SELECT t.v FROM nba_raw.t WHERE t.v = @v", lambda name: f"x_{name}")
    assert one(duck, out, {"v": 7})["v"] == 7


# -- parameter typing (nba_backfill.sql.params) -----------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("x", "STRING"),
        (3, "INT64"),
        (np.int64(3), "INT64"),
        (2.5, "FLOAT64"),
        (np.float64(2.5), "FLOAT64"),
        (True, "BOOL"),
        (np.bool_(False), "BOOL"),
        (Decimal("1.5"), "NUMERIC"),
        (dt.date(2024, 1, 1), "DATE"),
        (dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), "TIMESTAMP"),
        (pd.Timestamp("2024-01-01T10:00Z"), "TIMESTAMP"),
        (None, "STRING"),
        (["a", None], "ARRAY<STRING>"),
        ([dt.date(2024, 1, 1)], "ARRAY<DATE>"),
        ((1, 2.5), "ARRAY<FLOAT64>"),
        (np.array([1, 2]), "ARRAY<INT64>"),
        ([], "ARRAY<STRING>"),
    ],
)
def test_bigquery_param_type(value, expected):
    assert bigquery_param_type(value) == expected


@pytest.mark.parametrize("value", [[["nested"]], ["a", 1], object()])
def test_bigquery_param_type_rejects_unsupported_values(value):
    with pytest.raises(TypeError):
        bigquery_param_type(value)


def test_duckdb_params_bind_only_used_names_and_require_values():
    bound = duckdb_params(("day",), {"day": dt.date(2024, 1, 1), "unused": 1})
    assert list(bound) == ["day"]
    with pytest.raises(TerminalWarehouseError, match="@day"):
        duckdb_params(("day",), {})


def test_naive_timestamp_parameters_are_utc(duck):
    row = one(duck, "SELECT CAST(@ts AS STRING) AS s", {"ts": pd.Timestamp("2024-01-01 05:00")})
    assert row["s"] == "2024-01-01 05:00:00+00"
