"""DuckDB backend specifics (DDL types, failures view, transactions, error mapping) and the Arrow conversion."""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from nba_backfill.errors import (
    EnvironmentProblem,
    RegistryError,
    TableNotFound,
    TerminalWarehouseError,
    TransientWarehouseError,
    ValidationError,
)
from nba_backfill.tables import TABLES
from nba_backfill.values import round_half_away
from nba_backfill.warehouse import connect
from nba_backfill.warehouse.arrow import arrow_schema, to_arrow
from nba_backfill.warehouse.duckdb import DuckDBWarehouse, map_error

TDZA = TABLES["nba_precompute.team_defense_zone_analysis"]
UNITS = TABLES["nba_backfill.units"]
NOW = pd.Timestamp("2024-01-10T12:00:00Z")


@pytest.fixture
def duck(tmp_path):
    warehouse = connect(f"duckdb:///{tmp_path}/d.duckdb")
    yield warehouse
    warehouse.close()


def tdza_rows(day: dt.date, teams: list[str], **values) -> pd.DataFrame:
    return pd.DataFrame(
        {"team_abbr": teams, "analysis_date": [day] * len(teams), "processed_at": [NOW] * len(teams), **values}
    )


def unit(processor, day, state, finished, attempt=1, run_id="r1"):
    return {"run_id": run_id, "processor": processor, "unit_date": day, "state": state,
            "finished_at": pd.Timestamp(finished, tz="UTC"), "attempt": attempt}


# -- DDL -------------------------------------------------------------------------------------


def test_create_tables_types_order_and_not_null(duck):
    duck.create_tables([TDZA])
    info = duck.query(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
        " WHERE table_schema = 'nba_precompute' AND table_name = 'team_defense_zone_analysis'"
        " ORDER BY ordinal_position"
    )
    assert info["column_name"].tolist() == TDZA.column_names
    types = dict(zip(info["column_name"], info["data_type"]))
    assert types["team_abbr"] == "VARCHAR"
    assert types["analysis_date"] == "DATE"
    assert types["paint_pct_allowed_last_15"] == "DECIMAL(5,3)"
    assert types["games_in_sample"] == "BIGINT"
    assert types["completeness_percentage"] == "DOUBLE"
    assert types["early_season_flag"] == "BOOLEAN"
    assert types["processed_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["data_quality_issues"] == "VARCHAR[]"
    nullable = dict(zip(info["column_name"], info["is_nullable"]))
    assert nullable["team_abbr"] == "NO" and nullable["processed_at"] == "NO"
    assert nullable["strongest_zone"] == "YES"


def test_json_columns_are_json(duck):
    runs = TABLES["nba_backfill.runs"]
    duck.create_tables([runs])
    duck.append(runs, pd.DataFrame({"run_id": ["r"], "started_at": [NOW], "options": [{"force": True}]}))
    row = duck.query("SELECT JSON_VALUE(options, '$.force') AS f FROM nba_backfill.runs").iloc[0]
    assert row["f"] == "true"


# -- failures view --------------------------------------------------------------------------


def test_failures_view_shows_latest_failed_state_per_unit(duck):
    duck.create_tables([UNITS])
    d1, d2, d3 = dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 1, 3)
    duck.append(UNITS, pd.DataFrame([
        unit("tdza", d1, "FAILED", "2024-01-10 10:00", 1),
        unit("tdza", d1, "COMPLETE", "2024-01-10 11:00", 2),  # recovered: not listed
        unit("tdza", d2, "COMPLETE", "2024-01-10 10:00", 1),
        unit("tdza", d2, "STALE", "2024-01-10 12:00", 2),  # latest is STALE: listed
        unit("psza", d3, "NO_SOURCE_DATA", "2024-01-10 10:00", 1),
        unit("psza", d1, "EXPECTED_EMPTY", "2024-01-10 10:00", 1),
    ]))
    frame = duck.query("SELECT processor, unit_date, state, attempts FROM nba_backfill.failures ORDER BY processor")
    assert frame["processor"].tolist() == ["psza", "tdza"]
    assert frame["state"].tolist() == ["NO_SOURCE_DATA", "STALE"]
    assert frame["attempts"].tolist() == [1, 2]
    assert [d.date() for d in frame["unit_date"]] == [d3, d2]


# -- writes ----------------------------------------------------------------------------------


def test_replace_partitions_rolls_back_when_the_insert_fails(duck, monkeypatch):
    duck.create_tables([TDZA])
    day = dt.date(2024, 1, 5)
    duck.replace_partitions(TDZA, [day], tdza_rows(day, ["BOS", "LAL"]))

    def broken_insert(table, data, view):
        raise duckdb.ConversionException("boom")

    monkeypatch.setattr(duck, "_insert", broken_insert)
    with pytest.raises(TerminalWarehouseError) as info:
        duck.replace_partitions(TDZA, [day], tdza_rows(day, ["NYK"]))
    assert isinstance(info.value.__cause__, duckdb.ConversionException)
    monkeypatch.undo()
    teams = duck.query("SELECT team_abbr FROM nba_precompute.team_defense_zone_analysis ORDER BY 1")
    assert teams["team_abbr"].tolist() == ["BOS", "LAL"]  # the DELETE was rolled back


def test_writes_run_single_threaded_and_reads_keep_every_thread(duck, monkeypatch):
    duck.create_tables([TDZA])
    threads = duck.query("SELECT current_setting('threads') AS t")["t"][0]
    seen = []
    real = duck._insert

    def spy(table, data, view):
        seen.append(duck._con.execute("SELECT current_setting('threads')").fetchone()[0])
        if len(seen) > 1:
            raise duckdb.ConversionException("boom")
        real(table, data, view)

    monkeypatch.setattr(duck, "_insert", spy)
    day = dt.date(2024, 1, 5)
    duck.replace_partitions(TDZA, [day], tdza_rows(day, ["BOS"]))
    with pytest.raises(TerminalWarehouseError):
        duck.replace_partitions(TDZA, [day], tdza_rows(day, ["LAL"]))
    assert seen == [1, 1]
    assert duck.query("SELECT current_setting('threads') AS t")["t"][0] == threads  # restored after a failure too


def test_replace_partitions_rejects_rows_outside_the_days(duck):
    duck.create_tables([TDZA])
    with pytest.raises(ValidationError, match="2024-01-06"):
        duck.replace_partitions(TDZA, [dt.date(2024, 1, 5)], tdza_rows(dt.date(2024, 1, 6), ["BOS"]))


def test_replace_partitions_needs_a_date_partition(duck):
    table = TABLES["nba_reference.nba_players_registry"]
    duck.create_tables([table])
    with pytest.raises(RegistryError):
        duck.replace_partitions(table, [dt.date(2024, 1, 1)], pd.DataFrame())


def test_statement_counter_counts_round_trips(duck):
    start = duck.statements
    duck.create_tables([TDZA, UNITS])  # one transaction
    day = dt.date(2024, 1, 5)
    duck.replace_partitions(TDZA, [day], tdza_rows(day, ["BOS"]))  # one transaction
    duck.append(UNITS, pd.DataFrame([unit("tdza", day, "COMPLETE", "2024-01-10")]))
    duck.query("SELECT 1 AS x")
    duck.execute("DELETE FROM nba_backfill.units WHERE FALSE")
    assert duck.statements - start == 5


def test_sum_of_int64_is_an_integer_column(duck):
    frame = duck.query("SELECT SUM(x) AS s FROM UNNEST([1, 2, 3]) AS x")
    assert str(frame["s"].dtype) == "Int64"
    assert frame["s"].iloc[0] == 6


def test_session_time_zone_is_utc(duck):
    assert duck.query("SELECT current_setting('TimeZone') AS tz")["tz"].iloc[0] == "UTC"


# -- errors ----------------------------------------------------------------------------------


def test_missing_table_is_table_not_found_with_cause(duck):
    with pytest.raises(TableNotFound) as info:
        duck.query("SELECT * FROM nba_raw.nope")
    assert isinstance(info.value.__cause__, duckdb.CatalogException)


def test_bad_sql_is_terminal(duck):
    with pytest.raises(TerminalWarehouseError) as info:
        duck.query("SELECT CAST('x' AS INT64) AS v")
    assert not isinstance(info.value, TableNotFound)
    assert info.value.__cause__ is not None


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (duckdb.CatalogException("no table"), TableNotFound),
        (duckdb.IOException("disk"), TransientWarehouseError),
        (duckdb.TransactionException("conflict"), TransientWarehouseError),
        (duckdb.ConstraintException("not null"), TerminalWarehouseError),
        (duckdb.BinderException("bad column"), TerminalWarehouseError),
    ],
)
def test_map_error(exc, expected):
    mapped = map_error(exc, "query")
    assert type(mapped) is expected
    assert "query" in str(mapped)


def test_unopenable_file_is_an_environment_problem(tmp_path):
    with pytest.raises(EnvironmentProblem):
        DuckDBWarehouse(str(tmp_path / "missing-dir" / "w.duckdb"))


# -- Arrow conversion --------------------------------------------------------------------------


def test_arrow_schema_follows_the_contract():
    schema = arrow_schema(TDZA)
    assert schema.names == TDZA.column_names
    assert schema.field("paint_blocks_per_game").type == pa.decimal128(4, 1)
    assert schema.field("processed_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("data_quality_issues").type == pa.list_(pa.string())
    assert not schema.field("team_abbr").nullable and schema.field("strongest_zone").nullable


def test_to_arrow_converts_dates_timestamps_and_fills_missing_columns():
    rows = pd.DataFrame({
        "team_abbr": ["BOS", "LAL", "NYK"],
        "analysis_date": ["2024-01-05", dt.date(2024, 1, 5), pd.Timestamp("2024-01-05")],
        "processed_at": ["2024-01-05T05:00:00-05:00", "2024-01-05 10:00:00", pd.Timestamp("2024-01-05T10:00Z")],
        "data_quality_issues": [None, ["x"], []],
        "games_in_sample": [1.0, None, 3.0],
    })
    table = to_arrow(rows, TDZA)
    assert table.schema == arrow_schema(TDZA)
    assert table.column("analysis_date").to_pylist() == [dt.date(2024, 1, 5)] * 3
    stamps = table.column("processed_at").to_pylist()
    assert {s.isoformat() for s in stamps} == {"2024-01-05T10:00:00+00:00"}
    assert table.column("data_quality_issues").to_pylist() == [[], ["x"], []]
    assert table.column("games_in_sample").to_pylist() == [1, None, 3]
    assert table.column("strongest_zone").null_count == 3


def test_to_arrow_numeric_is_exact():
    rows = tdza_rows(dt.date(2024, 1, 5), ["A", "B", "C", "D"],
                     paint_pct_allowed_last_15=[0.1, -0.0, None, 0.435],
                     defensive_rating_last_15=[Decimal("112.25"), "99.5", 1234.56, float("nan")])
    table = to_arrow(rows, TDZA)
    assert table.column("paint_pct_allowed_last_15").to_pylist() == [
        Decimal("0.100"), Decimal("0.000"), None, Decimal("0.435")]
    assert table.column("defensive_rating_last_15").to_pylist() == [
        Decimal("112.25"), Decimal("99.50"), Decimal("1234.56"), None]


def test_to_arrow_numeric_matches_decimal_quantize_on_rounded_floats():
    rng = random.Random(7)
    values = [round_half_away(rng.uniform(-999.0, 999.0), 2) for _ in range(500)]
    table = to_arrow(tdza_rows(dt.date(2024, 1, 5), ["T"] * 500, defensive_rating_last_15=values), TDZA)
    expected = [Decimal(repr(v)).quantize(Decimal("0.01")) for v in values]
    assert table.column("defensive_rating_last_15").to_pylist() == expected


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("paint_blocks_per_game", 0.1 + 0.2),  # 0.30000000000000004: more digits than scale 1
        ("paint_blocks_per_game", 1.25),
        ("paint_blocks_per_game", 1000.0),  # NUMERIC(4,1) holds at most 999.9
        ("paint_blocks_per_game", Decimal("1.25")),
        ("paint_blocks_per_game", float("inf")),
        ("games_in_sample", 2.5),
        ("early_season_flag", "maybe"),
    ],
)
def test_to_arrow_rejects_values_that_do_not_fit(column, value):
    with pytest.raises(ValidationError, match=column):
        to_arrow(tdza_rows(dt.date(2024, 1, 5), ["BOS"], **{column: [value]}), TDZA)


def test_to_arrow_rejects_null_required_and_unknown_columns():
    with pytest.raises(ValidationError, match="team_abbr"):
        to_arrow(tdza_rows(dt.date(2024, 1, 5), [None]), TDZA)
    with pytest.raises(ValidationError, match="not_a_column"):
        to_arrow(tdza_rows(dt.date(2024, 1, 5), ["BOS"], not_a_column=[1]), TDZA)
    with pytest.raises(ValidationError, match="processed_at"):
        to_arrow(pd.DataFrame({"team_abbr": ["BOS"], "analysis_date": [dt.date(2024, 1, 5)]}), TDZA)
