"""The Warehouse protocol, backend-independent: every test runs on DuckDB and on BigQuery (local fake).

Results are compared after normalizing the frame types each client returns (DuckDB gives
datetime64 and floats, the BigQuery client dbdate and Decimal), so the assertions are
about values, which is what callers rely on.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from nba_backfill.errors import TableNotFound, ValidationError
from nba_backfill.tables import FAILURES_VIEW, TABLES, TableSpec

TDZA = TABLES["nba_precompute.team_defense_zone_analysis"]
UNITS = TABLES["nba_backfill.units"]
RUN_TS = pd.Timestamp("2024-02-01T08:30:00Z")
D1, D2, D3 = dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 1, 3)


# -- helpers ---------------------------------------------------------------------------------


def as_date(value):
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def as_utc(value):
    if value is None or pd.isna(value):
        return None
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def as_list(value):
    return [] if value is None else list(value)


def tdza(day: dt.date, teams: list[str], rating: float = 100.5) -> pd.DataFrame:
    n = len(teams)
    return pd.DataFrame({
        "team_abbr": teams,
        "analysis_date": [day] * n,
        "paint_pct_allowed_last_15": [0.435] * n,
        "defensive_rating_last_15": [rating] * n,
        "games_in_sample": list(range(1, n + 1)),
        "early_season_flag": [True] * n,
        "completeness_percentage": [87.5] * n,
        "data_quality_issues": [["thin_sample"]] + [[]] * (n - 1) if n else [],
        "processed_at": [RUN_TS] * n,
    })


def read_tdza(warehouse) -> pd.DataFrame:
    frame = warehouse.query(
        "SELECT team_abbr, analysis_date, defensive_rating_last_15 FROM nba_precompute.team_defense_zone_analysis"
        " WHERE analysis_date BETWEEN @start AND @end",
        {"start": dt.date(2023, 1, 1), "end": dt.date(2025, 1, 1)},
    )
    return pd.DataFrame({
        "team_abbr": frame["team_abbr"].astype(str),
        "analysis_date": [as_date(v) for v in frame["analysis_date"]],
        "rating": [float(v) for v in frame["defensive_rating_last_15"]],
    }).sort_values(["analysis_date", "team_abbr"]).reset_index(drop=True)


def per_day(frame: pd.DataFrame) -> dict[dt.date, list[str]]:
    return {day: sorted(group["team_abbr"]) for day, group in frame.groupby("analysis_date")}


def partition_filter(table: TableSpec) -> str:
    """A WHERE clause that satisfies require_partition_filter and selects nothing old."""
    if not table.partition:
        return ""
    if table.partition_is_range:
        return f" WHERE {table.partition} = -1"
    return f" WHERE {table.partition} = DATE '1900-01-01'"


# -- creation --------------------------------------------------------------------------------


def test_create_tables_twice_creates_every_contract_table_with_its_columns(warehouse):
    warehouse.create_tables(TABLES.values())
    warehouse.create_tables(TABLES.values())  # harmless
    for name, table in TABLES.items():
        assert warehouse.table_exists(name), name
        frame = warehouse.query(f"SELECT * FROM {name}{partition_filter(table)}")
        assert list(frame.columns) == table.column_names, name
        assert frame.empty
    assert warehouse.table_exists(FAILURES_VIEW)


def test_table_exists(warehouse):
    assert not warehouse.table_exists(TDZA.name)
    warehouse.create_tables([TDZA])
    assert warehouse.table_exists(TDZA.name)
    assert not warehouse.table_exists("nba_precompute.no_such_table")


def test_missing_table_is_table_not_found(warehouse):
    with pytest.raises(TableNotFound):
        warehouse.query("SELECT * FROM nba_precompute.no_such_table")
    with pytest.raises(TableNotFound):
        warehouse.append(TDZA, tdza(D1, ["BOS"]))


# -- parameters ------------------------------------------------------------------------------


def test_query_with_every_parameter_type(warehouse):
    row = warehouse.query(
        "SELECT @s AS s, @i + 1 AS i, @f * 2 AS f, NOT @b AS b, DATE_ADD(@d, INTERVAL 1 DAY) AS d,"
        " TIMESTAMP_ADD(@ts, INTERVAL 1 HOUR) AS ts, ARRAY_LENGTH(@names) AS n_names,"
        " (SELECT COUNT(*) FROM UNNEST(@days) AS x WHERE x >= DATE '2024-01-02') AS later_days,"
        " 'b' IN UNNEST(@names) AS has_b, @nothing IS NULL AS nothing_is_null",
        {
            "s": "text", "i": 41, "f": 1.25, "b": False, "d": dt.date(2024, 2, 28),
            "ts": dt.datetime(2024, 1, 1, 23, 30, tzinfo=dt.timezone.utc),
            "names": ["a", "b", "c"], "days": [D1, D2, D3], "nothing": None,
        },
    ).iloc[0]
    assert row["s"] == "text"
    assert int(row["i"]) == 42
    assert float(row["f"]) == 2.5
    assert bool(row["b"]) is True
    assert as_date(row["d"]) == dt.date(2024, 2, 29)
    assert as_utc(row["ts"]) == pd.Timestamp("2024-01-02T00:30:00Z")
    assert int(row["n_names"]) == 3
    assert int(row["later_days"]) == 2
    assert bool(row["has_b"]) is True
    assert bool(row["nothing_is_null"]) is True


def test_array_parameters_filter_table_rows(warehouse):
    warehouse.create_tables([TDZA])
    warehouse.replace_partitions(TDZA, [D1, D2, D3], pd.concat([tdza(D1, ["BOS"]), tdza(D2, ["LAL"]), tdza(D3, ["NYK"])]))
    frame = warehouse.query(
        "SELECT team_abbr FROM nba_precompute.team_defense_zone_analysis"
        " WHERE analysis_date IN UNNEST(@days) AND team_abbr IN UNNEST(@teams) ORDER BY team_abbr",
        {"days": [D1, D3], "teams": ["BOS", "LAL", "NYK"]},
    )
    assert frame["team_abbr"].tolist() == ["BOS", "NYK"]
    empty = warehouse.query(
        "SELECT team_abbr FROM nba_precompute.team_defense_zone_analysis WHERE analysis_date IN UNNEST(@days)",
        {"days": []},
    )
    assert empty.empty


# -- writes ----------------------------------------------------------------------------------


def test_replace_partitions_replaces_exactly_the_given_days(warehouse):
    warehouse.create_tables([TDZA])
    warehouse.replace_partitions(TDZA, [D1, D2, D3], pd.concat([
        tdza(D1, ["BOS", "LAL"]), tdza(D2, ["BOS", "LAL"]), tdza(D3, ["BOS", "LAL"]),
    ]))
    warehouse.replace_partitions(TDZA, [D2], tdza(D2, ["NYK"], rating=99.25))
    after = read_tdza(warehouse)
    assert per_day(after) == {D1: ["BOS", "LAL"], D2: ["NYK"], D3: ["BOS", "LAL"]}
    assert after.loc[after["analysis_date"] == D2, "rating"].tolist() == [99.25]

    warehouse.replace_partitions(TDZA, [D2], tdza(D2, ["NYK"], rating=99.25))  # re-run
    assert read_tdza(warehouse).equals(after)

    warehouse.replace_partitions(TDZA, [D3], tdza(D3, []))  # zero rows clear the day
    assert per_day(read_tdza(warehouse)) == {D1: ["BOS", "LAL"], D2: ["NYK"]}


def test_replace_partitions_round_trips_contract_types(warehouse):
    warehouse.create_tables([TDZA])
    warehouse.replace_partitions(TDZA, [D1], tdza(D1, ["BOS", "LAL"]))
    frame = warehouse.query(
        "SELECT * FROM nba_precompute.team_defense_zone_analysis WHERE analysis_date = @d ORDER BY team_abbr",
        {"d": D1},
    )
    bos = frame.iloc[0]
    assert bos["team_abbr"] == "BOS"
    assert as_date(bos["analysis_date"]) == D1
    assert Decimal(str(bos["paint_pct_allowed_last_15"])) == Decimal("0.435")
    assert Decimal(str(bos["defensive_rating_last_15"])) == Decimal("100.5")
    assert int(bos["games_in_sample"]) == 1
    assert bool(bos["early_season_flag"]) is True
    assert float(bos["completeness_percentage"]) == 87.5
    assert as_list(bos["data_quality_issues"]) == ["thin_sample"]
    assert as_list(frame.iloc[1]["data_quality_issues"]) == []
    assert as_utc(bos["processed_at"]) == RUN_TS
    assert pd.isna(bos["strongest_zone"])


def test_numeric_with_too_many_digits_is_rejected_and_nothing_is_written(warehouse):
    warehouse.create_tables([TDZA])
    warehouse.replace_partitions(TDZA, [D1], tdza(D1, ["BOS"]))
    with pytest.raises(ValidationError, match="defensive_rating_last_15"):
        warehouse.replace_partitions(TDZA, [D1], tdza(D1, ["LAL"], rating=100.125))  # NUMERIC(6,2)
    assert per_day(read_tdza(warehouse)) == {D1: ["BOS"]}


def test_append_adds_rows_and_feeds_the_failures_view(warehouse):
    warehouse.create_tables([UNITS])
    first = pd.DataFrame({
        "run_id": ["r1", "r1"], "processor": ["tdza", "tdza"], "unit_date": [D1, D2],
        "state": ["FAILED", "COMPLETE"], "attempt": [1, 1], "warnings": [["slow"], []],
        "finished_at": [RUN_TS, RUN_TS],
    })
    warehouse.append(UNITS, first)
    warehouse.append(UNITS, first.iloc[[0]].assign(run_id="r2", state="COMPLETE", attempt=2,
                                                    finished_at=RUN_TS + pd.Timedelta("1h")))
    warehouse.append(UNITS, first.iloc[[1]].assign(run_id="r2", state="BLOCKED", attempt=2,
                                                    finished_at=RUN_TS + pd.Timedelta("1h")))
    units = warehouse.query(
        "SELECT run_id, unit_date, state FROM nba_backfill.units WHERE unit_date BETWEEN @a AND @b",
        {"a": D1, "b": D3},
    )
    assert len(units) == 4
    failures = warehouse.query("SELECT processor, unit_date, state, run_id FROM nba_backfill.failures")
    assert failures["state"].tolist() == ["BLOCKED"]
    assert [as_date(v) for v in failures["unit_date"]] == [D2]
    assert failures["run_id"].tolist() == ["r2"]
