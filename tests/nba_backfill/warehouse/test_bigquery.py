"""The BigQuery backend through the real google-cloud-bigquery client against the local fake endpoint."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal

import fake_bigquery
import pandas as pd
import pytest
import requests
from google.api_core import exceptions as gexc
from google.cloud import bigquery

from nba_backfill.errors import (
    EnvironmentProblem,
    RegistryError,
    TableNotFound,
    TerminalWarehouseError,
    TransientWarehouseError,
    ValidationError,
)
from nba_backfill.tables import TABLES
from nba_backfill.warehouse import bigquery as bq_module
from nba_backfill.warehouse import bigquery_schema as bqs
from nba_backfill.warehouse.bigquery import BigQueryWarehouse
from nba_backfill.warehouse.bigquery_errors import RetryPolicy, map_error

PROJECT = "test-project"
PREFIX = "t_"
UNITS = TABLES["nba_backfill.units"]
SCHEDULE = TABLES["nba_raw.nbac_schedule"]
PLAYER_LIST = TABLES["nba_raw.nbac_player_list_current"]
CACHE = TABLES["nba_precompute.player_daily_cache"]
UPGC = TABLES["nba_analytics.upcoming_player_game_context"]
D1, D2, D3 = dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 1, 3)


@pytest.fixture
def server():
    fake = fake_bigquery.FakeBigQuery().start()
    yield fake
    fake.stop()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def wh(server, sleeps):
    policy = RetryPolicy(initial=0.01, maximum=0.05, deadline=5.0, sleep=sleeps.append)
    warehouse = BigQueryWarehouse(PROJECT, endpoint=server.url, dataset_prefix=PREFIX, retry=policy)
    yield warehouse
    warehouse.close()


def unit_rows(days: list[dt.date], state: str = "COMPLETE", run_id: str = "r1") -> pd.DataFrame:
    now = pd.Timestamp("2024-02-01 12:00:00", tz="UTC")
    return pd.DataFrame({
        "run_id": [run_id] * len(days), "processor": ["p"] * len(days), "unit_date": days,
        "state": [state] * len(days), "finished_at": [now] * len(days), "attempt": [1] * len(days),
        "warnings": [["w"] for _ in days],
    })


def required_row(table, day: dt.date) -> pd.DataFrame:
    """One row with every REQUIRED column of `table` filled by a value of its type."""
    samples = {"STRING": "x", "INT64": 1, "FLOAT64": 1.0, "NUMERIC": 1.0, "BOOLEAN": True, "DATE": day,
               "TIMESTAMP": pd.Timestamp("2024-01-01", tz="UTC")}
    row = {c.name: [samples[c.base_type]] for c in table.columns if c.required}
    return pd.DataFrame(row | {table.partition: [day]})


def field_of(resource: dict, name: str) -> dict:
    return next(f for f in resource["schema"]["fields"] if f["name"] == name)


# ------------------------------------------------------------------ creation


def test_create_tables_follows_the_contract(wh, server):
    wh.create_tables([SCHEDULE, PLAYER_LIST, CACHE])
    sched = server.table_resource(f"{PREFIX}nba_raw", "nbac_schedule")
    assert [f["name"] for f in sched["schema"]["fields"]] == SCHEDULE.column_names
    assert sched["timePartitioning"]["field"] == SCHEDULE.partition
    assert sched["timePartitioning"]["type"] == "DAY"
    assert "expirationMs" not in sched["timePartitioning"]
    assert sched["requirePartitionFilter"] is True
    assert sched["clustering"]["fields"] == list(SCHEDULE.cluster)

    cache = server.table_resource(f"{PREFIX}nba_precompute", "player_daily_cache")
    assert CACHE.production_expiration_days  # production expires it; the tool must not
    assert "expirationMs" not in cache["timePartitioning"]
    assert not cache.get("requirePartitionFilter")
    numeric = next(c for c in CACHE.columns if c.numeric_scale is not None)
    f = field_of(cache, numeric.name)
    assert (f["type"], int(f["precision"]), int(f["scale"])) == (
        "NUMERIC", numeric.numeric_precision, numeric.numeric_scale)
    required = next(c for c in CACHE.columns if c.required)
    assert field_of(cache, required.name)["mode"] == "REQUIRED"

    plist = server.table_resource(f"{PREFIX}nba_raw", "nbac_player_list_current")
    assert "timePartitioning" not in plist
    rng = plist["rangePartitioning"]
    assert rng["field"] == "season_year"
    assert (int(rng["range"]["start"]), int(rng["range"]["end"]), int(rng["range"]["interval"])) == (2020, 2030, 1)


def test_create_tables_twice_is_harmless_and_builds_the_failures_view(wh, server):
    wh.create_tables(TABLES.values())
    wh.create_tables(TABLES.values())
    for spec in TABLES.values():
        fetched = wh.client.get_table(wh.table_id(spec.name))
        assert [f.name for f in fetched.schema] == spec.column_names, spec.name
    repeated = next(c for c in UNITS.columns if c.repeated)
    assert field_of(server.table_resource(f"{PREFIX}nba_backfill", "units"), repeated.name)["mode"] == "REPEATED"
    wh.append(UNITS, pd.concat([unit_rows([D1], "FAILED"), unit_rows([D2], "COMPLETE")]))
    failures = wh.query("SELECT processor, unit_date, state FROM nba_backfill.failures")
    assert failures["state"].tolist() == ["FAILED"]
    assert failures["unit_date"].dt.date.tolist() == [D1]


def test_create_tables_adds_the_contract_added_columns_only(wh, server):
    assert UPGC.added_columns
    wh.client.create_dataset(wh.dataset_id("nba_analytics"))  # an older production table, without them
    old = bigquery.Table(wh.table_id(UPGC.name),
                         schema=[bqs.schema_field(c) for c in UPGC.columns if c.name not in UPGC.added_columns])
    wh.client.create_table(old)
    wh.create_tables([UPGC])
    names = [f["name"] for f in server.table_resource(f"{PREFIX}nba_analytics", UPGC.table)["schema"]["fields"]]
    assert names[-len(UPGC.added_columns):] == list(UPGC.added_columns)
    sent = server.job_configs("query")[-1]["query"]
    assert f"ALTER TABLE `{PROJECT}.{PREFIX}nba_analytics.{UPGC.table}` ADD COLUMN IF NOT EXISTS" in sent


def test_create_tables_stops_on_other_missing_columns(wh):
    wh.create_tables([SCHEDULE])
    dropped = CACHE.columns[3]
    wh.client.create_dataset(wh.dataset_id("nba_precompute"))
    wh.client.create_table(bigquery.Table(wh.table_id(CACHE.name),
                                          schema=[bqs.schema_field(c) for c in CACHE.columns if c != dropped]))
    with pytest.raises(EnvironmentProblem, match=f"ADD COLUMN IF NOT EXISTS {dropped.name} "):
        wh.create_tables([CACHE])


def test_package_import_does_not_load_the_bigquery_client():
    code = "import sys, nba_backfill.warehouse; print('google.cloud.bigquery' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------ queries


def test_query_binds_every_parameter_type(wh, server):
    params = {
        "s": "a'b", "i": 2**40, "f": 0.25, "b": True, "d": D2, "n": Decimal("1.25"), "none": None,
        "ts": dt.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=dt.timezone.utc),
        "sa": ["x", "y"], "da": [D1, D3], "ia": [1, 2, 3],
    }
    sql = ("SELECT @s AS s, @i AS i, @f AS f, @b AS b, @d AS d, @ts AS ts, @n AS n, @none IS NULL AS none_null, "
           "ARRAY_LENGTH(@sa) AS sa_len, @da[OFFSET(1)] AS da1, (SELECT SUM(x) FROM UNNEST(@ia) AS x) AS ia_sum")
    row = wh.query(sql, params).iloc[0]
    assert row["s"] == "a'b" and row["i"] == 2**40 and row["f"] == 0.25 and bool(row["b"]) is True
    assert row["d"] == pd.Timestamp(D2) and row["da1"] == pd.Timestamp(D3)
    assert row["ts"] == pd.Timestamp(params["ts"])
    assert row["n"] == 1.25 and bool(row["none_null"]) is True
    assert row["sa_len"] == 2 and row["ia_sum"] == 6
    types = {p["name"]: p["parameterType"] for p in server.job_configs("query")[-1]["queryParameters"]}
    assert types["i"]["type"] == "INT64" and types["ts"]["type"] == "TIMESTAMP" and types["n"]["type"] == "NUMERIC"
    assert types["da"] == {"type": "ARRAY", "arrayType": {"type": "DATE"}}


def test_query_rewrites_registry_names_and_sends_only_used_params(wh, server):
    wh.create_tables([SCHEDULE])
    frame = wh.query("SELECT game_id FROM nba_raw.nbac_schedule WHERE game_date = @d", {"d": D1, "unused": 1})
    assert frame.empty and list(frame.columns) == ["game_id"]
    config = server.job_configs("query")[-1]
    assert f"FROM {PROJECT}.{PREFIX}nba_raw.nbac_schedule" in config["query"].replace("`", "")
    assert [p["name"] for p in config["queryParameters"]] == ["d"]
    assert config["useLegacySql"] is False


def test_a_parameter_without_value_is_terminal(wh, server):
    with pytest.raises(TerminalWarehouseError, match="@d"):
        wh.query("SELECT @d AS d", {"other": 1})
    assert server.job_configs("query") == []  # refused before any request


def test_query_pages_through_long_results(wh, monkeypatch):
    monkeypatch.setattr(fake_bigquery, "PAGE_ROWS", 7)
    frame = wh.query("SELECT x FROM UNNEST(GENERATE_ARRAY(1, 30)) AS x ORDER BY x")
    assert frame["x"].tolist() == list(range(1, 31))


def test_missing_table_is_table_not_found(wh):
    wh.create_tables([SCHEDULE])
    with pytest.raises(TableNotFound):
        wh.query("SELECT * FROM nba_raw.no_such_table")
    assert wh.table_exists(SCHEDULE.name) and not wh.table_exists("nba_raw.no_such_table")
    with pytest.raises(TableNotFound):
        wh.append(CACHE, pd.DataFrame({"player_lookup": ["a"], "cache_date": [D1]}))


# ------------------------------------------------------------------ writes


def test_replace_partitions_replaces_exactly_the_days(wh, server):
    wh.create_tables([UNITS])
    wh.append(UNITS, unit_rows([D1, D2, D3], "FAILED"))
    before = wh.statements
    wh.replace_partitions(UNITS, [D1, D2], unit_rows([D1, D2], "COMPLETE", run_id="r2"))
    wh.replace_partitions(UNITS, [D1, D2], unit_rows([D1, D2], "COMPLETE", run_id="r2"))  # re-run
    assert wh.statements - before == 4  # per replace: one load + one transaction
    got = wh.query("SELECT unit_date, state, run_id FROM nba_backfill.units ORDER BY unit_date")
    assert got["state"].tolist() == ["COMPLETE", "COMPLETE", "FAILED"]
    assert got["run_id"].tolist() == ["r2", "r2", "r1"]

    script = [q for q in server.job_configs("query") if "DELETE" in q["query"]][-1]
    assert script["query"].startswith("BEGIN TRANSACTION;") and script["query"].endswith("COMMIT TRANSACTION;")
    assert "IN UNNEST(@days)" in script["query"] and "INSERT INTO" in script["query"]
    load = server.job_configs("load")[-1]
    assert load["sourceFormat"] == "PARQUET" and load["writeDisposition"] == "WRITE_TRUNCATE"
    assert load["destinationTable"]["tableId"].startswith("_staging_units_")
    assert not [k for k in server.engine.tables if k[1].startswith("_staging_")]

    wh.replace_partitions(UNITS, [D3], unit_rows([]))  # zero rows clear the partition
    assert wh.query("SELECT COUNT(*) AS n FROM nba_backfill.units WHERE unit_date = @d", {"d": D3})["n"][0] == 0


def test_replace_partitions_rejects_bad_input(wh):
    wh.create_tables([UNITS, PLAYER_LIST])
    with pytest.raises(ValidationError, match="outside"):
        wh.replace_partitions(UNITS, [D1], unit_rows([D2]))
    with pytest.raises(RegistryError):
        wh.replace_partitions(PLAYER_LIST, [D1], pd.DataFrame())
    numeric = next(c for c in CACHE.columns if c.numeric_scale is not None)
    too_fine = 1 / 3
    with pytest.raises(ValidationError):
        wh.replace_partitions(CACHE, [D1], pd.DataFrame({"player_lookup": ["a"], "cache_date": [D1],
                                                         numeric.name: [too_fine]}))


def test_append_is_one_load_job(wh, server):
    wh.create_tables([UNITS])
    before = wh.statements
    wh.append(UNITS, unit_rows([D1, D2, D3]))
    wh.append(UNITS, unit_rows([]))  # nothing to do
    assert wh.load_jobs[UNITS.name] == 1 and wh.statements - before == 1
    load = server.job_configs("load")[-1]
    assert (load["writeDisposition"], load["createDisposition"]) == ("WRITE_APPEND", "CREATE_NEVER")
    assert load["parquetOptions"]["enableListInference"] is True
    got = wh.query("SELECT warnings FROM nba_backfill.units")
    assert [list(w) for w in got["warnings"]] == [["w"]] * 3


def test_large_loads_use_the_resumable_upload(wh, server, monkeypatch):
    monkeypatch.setattr(bq_module, "_MULTIPART_LIMIT", 0)
    wh.create_tables([UNITS])
    wh.append(UNITS, unit_rows([D1, D2]))
    uploads = [r.query.get("uploadType") for r in server.requests if r.path.startswith("/upload/")]
    assert ["resumable"] in uploads
    assert wh.query("SELECT COUNT(*) AS n FROM nba_backfill.units")["n"][0] == 2


# ------------------------------------------------------------------ errors and retries


@pytest.mark.parametrize("status, reason", [(503, "backendError"), (429, "rateLimitExceeded"),
                                            (403, "rateLimitExceeded"), (500, "internalError")])
def test_transient_http_errors_are_retried(wh, server, sleeps, status, reason):
    server.fail_next(2, status=status, reason=reason, path_contains="/jobs")
    assert wh.query("SELECT 1 AS one")["one"].tolist() == [1]
    assert len(sleeps) == 2 and sleeps[0] <= sleeps[1]


def test_transaction_conflicts_are_retried(wh, server, sleeps):
    wh.create_tables([UNITS])
    wh.append(UNITS, unit_rows([D1]))
    server.fail_jobs(1, status=400, reason="invalidQuery",
                     message="Could not serialize access to table units due to concurrent update")
    wh.replace_partitions(UNITS, [D1], unit_rows([D1], "FAILED"))
    assert len(sleeps) == 1
    assert wh.query("SELECT state FROM nba_backfill.units")["state"].tolist() == ["FAILED"]


def test_permanent_errors_fail_at_once(wh, server, sleeps):
    server.fail_always(403, "accessDenied", "Access Denied: Project test-project")
    with pytest.raises(TerminalWarehouseError, match="Access Denied") as info:
        wh.query("SELECT 1 AS one")
    assert not isinstance(info.value, TransientWarehouseError)
    assert isinstance(info.value.__cause__, gexc.Forbidden)
    assert sleeps == []


def test_transient_errors_give_up_at_the_deadline(server):
    slept: list[float] = []
    policy = RetryPolicy(initial=0.2, multiplier=2, maximum=1.0, deadline=1.0, jitter=0, sleep=slept.append)
    wh = BigQueryWarehouse(PROJECT, endpoint=server.url, retry=policy)
    server.fail_always(503, "backendError", "Backend error")
    with pytest.raises(TransientWarehouseError):
        wh.query("SELECT 1 AS one")
    assert slept == [0.2, 0.4]  # a third pause (0.8) would pass the 1 s deadline


def test_map_error_classifies_driver_exceptions():
    def api(cls, reason, message="boom"):
        return cls(message, errors=[{"reason": reason, "message": message}])

    assert type(map_error(api(gexc.NotFound, "notFound", "Not found: Table p:d.t"), "q")) is TableNotFound
    assert isinstance(map_error(api(gexc.Forbidden, "rateLimitExceeded"), "q"), TransientWarehouseError)
    assert isinstance(map_error(api(gexc.Forbidden, "accessDenied"), "q"), TerminalWarehouseError)
    assert not isinstance(map_error(api(gexc.Forbidden, "accessDenied"), "q"), TransientWarehouseError)
    assert isinstance(map_error(api(gexc.ServiceUnavailable, "backendError"), "q"), TransientWarehouseError)
    conflict = api(gexc.BadRequest, "invalidQuery", "Could not serialize access to table t due to concurrent update")
    assert isinstance(map_error(conflict, "q"), TransientWarehouseError)
    assert type(map_error(api(gexc.BadRequest, "invalidQuery", "Syntax error"), "q")) is TerminalWarehouseError
    location = api(gexc.NotFound, "notFound", "Not found: Dataset p:d was not found in location EU")
    assert type(map_error(location, "q")) is TerminalWarehouseError
    assert isinstance(map_error(requests.exceptions.ReadTimeout("slow"), "q"), TransientWarehouseError)


def test_retry_delays_grow_with_jitter_inside_bounds():
    policy = RetryPolicy(initial=1.0, multiplier=2.0, maximum=5.0, jitter=0.5)
    for attempt, base in enumerate([1.0, 2.0, 4.0, 5.0]):
        for _ in range(20):
            assert base * 0.5 <= policy.delay(attempt) <= base


# ------------------------------------------------------------------ §1.6 checks


def test_expiration_blocks_writes_the_table_would_delete(wh, server):
    wh.create_tables([SCHEDULE])
    wh.client.create_dataset(wh.dataset_id("nba_precompute"))
    prod = bqs.table_definition(CACHE, wh.table_id(CACHE.name))
    prod.time_partitioning = bigquery.TimePartitioning(field=CACHE.partition, expiration_ms=30 * 86_400_000)
    wh.client.create_table(prod)
    statement = (f"ALTER TABLE `{PROJECT}.{PREFIX}nba_precompute.player_daily_cache` "
                 "SET OPTIONS (partition_expiration_days = NULL)")
    rows = pd.DataFrame({"player_lookup": ["a"], "cache_date": [D1]})
    with pytest.raises(EnvironmentProblem) as info:
        wh.replace_partitions(CACHE, [D1], rows)
    assert statement in str(info.value) and "player_daily_cache" in str(info.value)
    assert wh.table_options(CACHE.name).partition_expiration_days == 30

    today = dt.datetime.now(dt.timezone.utc).date()
    wh.replace_partitions(CACHE, [today], rows.assign(cache_date=[today]))  # recent dates survive: allowed

    wh.check_partition_expiration = False  # what --skip-preflight does: the operator takes the risk
    wh.replace_partitions(CACHE, [D1], rows)
    wh.execute("DELETE FROM nba_precompute.player_daily_cache WHERE cache_date = @d", {"d": D1})

    wh.execute(statement.replace(f"{PROJECT}.{PREFIX}", ""))  # registry name; the backend qualifies it
    fresh = BigQueryWarehouse(PROJECT, endpoint=server.url, dataset_prefix=PREFIX)
    assert fresh.table_options(CACHE.name).partition_expiration_days is None
    fresh.replace_partitions(CACHE, [D1], rows)
    assert len(fresh.query("SELECT * FROM nba_precompute.player_daily_cache")) == 2


def test_expiration_problem_is_pure_over_the_fetched_table():
    fetched = bqs.table_definition(CACHE, "p.d.player_daily_cache")
    now = dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc)
    assert bqs.expiration_problem(CACHE, fetched, [D1], now, "p.d.player_daily_cache") is None
    fetched.time_partitioning = bigquery.TimePartitioning(field="cache_date", expiration_ms=30 * 86_400_000)
    assert bqs.expiration_problem(CACHE, fetched, [dt.date(2024, 2, 15)], now, "p.d.t") is None
    message = bqs.expiration_problem(CACHE, fetched, [dt.date(2024, 2, 15), D1], now, "p.d.player_daily_cache")
    assert message.endswith("ALTER TABLE `p.d.player_daily_cache` SET OPTIONS (partition_expiration_days = NULL)")
    assert D1.isoformat() in message


def test_schema_problem_names_missing_and_mistyped_columns():
    qualified = "nba-props-platform.nba_analytics.upcoming_player_game_context"
    fields = [bqs.schema_field(c) for c in UPGC.columns if c.name not in UPGC.added_columns]
    fetched = bigquery.Table(qualified, schema=fields)
    message = bqs.schema_problem(UPGC, fetched, qualified)
    for name in UPGC.added_columns:
        col = UPGC.column(name)
        assert f"ALTER TABLE `{qualified}` ADD COLUMN IF NOT EXISTS {name} {col.type}" in message

    retyped = next(c for c in UPGC.columns if c.base_type == "INT64")
    fields = [bigquery.SchemaField(c.name, "STRING") if c == retyped else bqs.schema_field(c) for c in UPGC.columns]
    fields.append(bigquery.SchemaField("extra_column", "STRING"))  # extra nullable columns are fine
    message = bqs.schema_problem(UPGC, bigquery.Table(qualified, schema=fields), qualified)
    assert f"{UPGC.name}.{retyped.name} is STRING" in message and "ADD COLUMN" not in message
    exact = bigquery.Table(qualified, schema=[bqs.schema_field(c) for c in UPGC.columns])
    assert bqs.schema_problem(UPGC, exact, qualified) is None


def test_writes_stop_on_a_table_missing_contract_columns(wh):
    wh.create_tables([SCHEDULE])
    wh.client.create_dataset(wh.dataset_id("nba_analytics"), exists_ok=True)
    old = bigquery.Table(wh.table_id(UPGC.name),
                         schema=[bqs.schema_field(c) for c in UPGC.columns if c.name not in UPGC.added_columns])
    wh.client.create_table(old)
    with pytest.raises(EnvironmentProblem, match="ADD COLUMN IF NOT EXISTS has_prop_line"):
        wh.replace_partitions(UPGC, [D1], required_row(UPGC, D1))


def test_replacing_partitions_of_a_missing_table_is_table_not_found(wh):
    with pytest.raises(TableNotFound):
        wh.replace_partitions(UNITS, [D1], unit_rows([D1]))


def test_json_and_timestamp_columns_round_trip(wh):
    runs = TABLES["nba_backfill.runs"]
    wh.create_tables([runs])
    started = pd.Timestamp("2024-01-02 03:04:05.123456", tz="UTC")
    wh.append(runs, pd.DataFrame({"run_id": ["r"], "started_at": [started], "options": ['{"force": true}'],
                                  "start_date": [D1]}))
    got = wh.query("SELECT run_id, started_at, options, start_date, JSON_VALUE(options, '$.force') AS force "
                   "FROM nba_backfill.runs")
    assert got["started_at"][0] == started and str(got["started_at"].dtype) == "datetime64[us, UTC]"
    assert got["start_date"][0] == pd.Timestamp(D1) and got["force"][0] == "true"
    assert '"force"' in str(got["options"][0])


def test_a_failing_script_rolls_its_transaction_back(wh):
    wh.create_tables([UNITS])
    wh.append(UNITS, unit_rows([D1]))
    script = ("BEGIN TRANSACTION;\nDELETE FROM nba_backfill.units WHERE unit_date = @d;\n"
              "INSERT INTO nba_backfill.units (run_id) SELECT run_id FROM nba_backfill.no_such_table;\n"
              "COMMIT TRANSACTION;")
    with pytest.raises(TableNotFound):
        wh.execute(script, {"d": D1})
    assert wh.query("SELECT COUNT(*) AS n FROM nba_backfill.units")["n"][0] == 1


def test_result_frames_have_the_duckdb_backend_dtypes():
    import pyarrow as pa

    table = pa.table({
        "n": pa.array([Decimal("0.435"), None], pa.decimal128(38, 9)),
        "d": pa.array([D1, None], pa.date32()),
        "i": pa.array([1, None], pa.int64()), "j": pa.array([1, 2], pa.int64()),
        "b": pa.array([True, False]),
    })
    frame = bq_module.frame_from_arrow(table)
    assert frame["n"].tolist()[0] == 0.435 and pd.isna(frame["n"][1])  # exact, unlike Arrow's own cast
    assert str(frame["d"].dtype) == "datetime64[us]" and frame["d"][0] == pd.Timestamp(D1)
    assert str(frame["i"].dtype) == "Int64" and str(frame["j"].dtype) == "int64" and str(frame["b"].dtype) == "bool"
