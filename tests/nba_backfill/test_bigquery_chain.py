"""The whole chain through the BigQuery backend (real google-cloud-bigquery client, local fake endpoint).

`warehouse init`, `sample load`, `phase3 run`, `phase4 run --all`, `phase4 status` and
`verify` run through the CLI against the fake endpoint for 2021-10-19 → 2021-11-20 (opening
night, the bootstrap week, then dates with real Phase 4 rows), and the Phase 4 tables must
have the same content digests as the DuckDB run of the same range. The statements the fake
received must bound the partition column of every table that requires it; injected transient
errors must be retried to completion; injected permanent errors must fail only their units.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fake_bigquery
import numpy as np
import pandas as pd
import pytest
import sqlglot
from sqlglot import exp
from typer.testing import CliRunner, Result

from nba_backfill.cli import app
from nba_backfill.registry import default_registry
from nba_backfill.tables import TABLES, TableSpec
from nba_backfill.warehouse import bigquery as bq_module
from nba_backfill.warehouse import connect
from nba_backfill.warehouse.bigquery_errors import RetryPolicy

pytestmark = pytest.mark.bigquery_chain

SEASON, START, END = "2021-22", "2021-10-19", "2021-11-20"
PROJECT, PREFIX = "nba-props-platform", "ci_"
REGISTRY = default_registry()
PHASE4 = REGISTRY.names(4)
CONTEXT = "upcoming_player_game_context"
BOOKKEEPING = {"processed_at", "created_at"}
SAMPLE_TABLES = ("nba_raw.nbac_schedule", "nba_raw.bettingpros_player_points_props",
                 "nba_analytics.player_game_summary", "nba_analytics.team_offense_game_summary",
                 "nba_analytics.team_defense_game_summary", "nba_analytics.upcoming_team_game_context",
                 "nba_reference.nba_players_registry", "nba_raw.nbac_player_list_current")
FAILURE_STATES = {"FAILED", "BLOCKED", "DEGRADED", "NOT_RUN", "STALE"}


def _load_checker() -> Any:
    """The statement checker of test_partition_filters.py (one implementation, two callers)."""
    path = Path(__file__).with_name("test_partition_filters.py")
    spec = importlib.util.spec_from_file_location("_partition_filter_checker", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


checker = _load_checker()


# ---------------------------------------------------------------------------------- helpers


class TrappingFake(fake_bigquery.FakeBigQuery):
    """The fake endpoint plus faults chosen by the request body (e.g. one table's partition replacement)."""

    def __init__(self) -> None:
        super().__init__()
        #: (body fragment, status, reason, message): every request whose body holds the fragment fails.
        self.traps: list[tuple[bytes, int, str, str]] = []
        self.trapped = 0
        #: Least privilege: inserting a dataset, or a table other than a staging table, is denied.
        self.deny_creates = False

    def handle(self, method: str, raw_path: str, headers: Any, body: bytes):
        path = raw_path.split("?")[0]
        if self.deny_creates and method == "POST" and (
                path.endswith("/datasets") or path.endswith("/tables") and b"_staging_" not in body):
            with self._lock:
                self.trapped += 1
            return fake_bigquery._error(403, "accessDenied", "Access Denied: Project: User does not have "
                                                             "bigquery.datasets.create permission")
        for fragment, status, reason, message in self.traps:
            if fragment in body:
                with self._lock:
                    self.trapped += 1
                return fake_bigquery._error(status, reason, message)
        return super().handle(method, raw_path, headers, body)


def _canon(value: Any, base_type: str) -> str:
    """One cell as text that is the same for both backends' result frames."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return "[" + ",".join(_canon(v, base_type) for v in list(value)) + "]"
    if value is None or pd.isna(value):
        return "∅"
    if base_type in ("NUMERIC", "FLOAT64"):
        return repr(float(value))
    if base_type == "INT64":
        return str(int(value))
    if base_type in ("BOOLEAN", "BOOL"):
        return str(bool(value))
    if base_type == "DATE":
        return pd.Timestamp(value).date().isoformat()
    if base_type == "TIMESTAMP":
        ts = pd.Timestamp(value)
        return (ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")).isoformat()
    if base_type == "JSON":
        return json.dumps(json.loads(value) if isinstance(value, str) else value, sort_keys=True)
    return str(value)


@dataclass
class TableContent:
    rows: int
    digest: str
    frame: pd.DataFrame = field(repr=False)


def table_content(url: str, table: TableSpec, lo: dt.date, hi: dt.date) -> TableContent:
    """Canonical content of `table` between lo and hi (bookkeeping timestamps aside), sorted by key."""
    wh = connect(url)
    try:
        df = wh.query(f"SELECT * FROM {table.name} WHERE {table.partition} BETWEEN @lo AND @hi", {"lo": lo, "hi": hi})
    finally:
        wh.close()
    cols = [c for c in table.columns if c.name not in BOOKKEEPING and not c.name.endswith("_last_updated")]
    canon = pd.DataFrame({c.name: [_canon(v, c.base_type) for v in df[c.name]] for c in cols}, index=df.index)
    canon = canon.sort_values(list(table.primary_key)).reset_index(drop=True)
    text = "\n".join("|".join(row) for row in canon.itertuples(index=False, name=None))
    return TableContent(len(canon), hashlib.sha256(text.encode("utf-8")).hexdigest(), canon)


def latest_units(url: str) -> pd.DataFrame:
    """Latest ledger state and rows per (processor, unit_date)."""
    wh = connect(url)
    try:
        df = wh.query(
            "SELECT processor, unit_date, state, rows_written, error_class, error_message FROM (SELECT *, "
            "ROW_NUMBER() OVER (PARTITION BY processor, unit_date ORDER BY finished_at DESC, attempt DESC) AS rn "
            "FROM nba_backfill.units WHERE unit_date BETWEEN @lo AND @hi) WHERE rn = 1",
            {"lo": dt.date(2021, 10, 1), "hi": dt.date(2022, 7, 1)},
        )
    finally:
        wh.close()
    df["unit_date"] = [pd.Timestamp(d).date() for d in df["unit_date"]]
    return df.sort_values(["processor", "unit_date"]).reset_index(drop=True)


def outputs() -> dict[str, tuple[TableSpec, str]]:
    """processor -> (output table, date column), Phase 3 context included."""
    return {p: (TABLES[REGISTRY.get(p).output_table], REGISTRY.get(p).date_column) for p in [CONTEXT, *PHASE4]}


def snapshot(url: str) -> dict[str, TableContent]:
    lo, hi = dt.date.fromisoformat(START), dt.date.fromisoformat(END)
    return {p: table_content(url, t, lo, hi) for p, (t, _) in outputs().items()}


def invoke(url: str, *args: str) -> Result:
    result = CliRunner().invoke(app, ["--warehouse", url, *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def chain(url: str, *, init: bool, read_only_extras: bool = False, check: bool = True) -> dict[str, Result]:
    """The operator's sequence for the range; returns each command's result.

    `read_only_extras` adds commands that only read (Phase 4 dry run, props check, failures), so
    their statements reach the partition-filter check too; `check=False` leaves out `status` and `verify`.
    """
    out: dict[str, Result] = {}
    if init:
        out["init"] = invoke(url, "warehouse", "init")
    out["sample"] = invoke(url, "sample", "load", "--seasons", SEASON, "--through", END)
    out["phase3"] = invoke(url, "--json", "phase3", "run", "--processor", CONTEXT, "--start-date", START, "--end-date", END)
    out["phase4"] = invoke(url, "--json", "phase4", "run", "--all", "--start-date", START, "--end-date", END)
    if read_only_extras:
        out["dry4"] = invoke(url, "--json", "phase4", "run", "--all", "--dry-run", "--force", "--start-date", START,
                             "--end-date", END)
        out["props"] = invoke(url, "props", "check", "--start-date", "2021-11-01", "--end-date", "2021-11-03")
        out["failures"] = invoke(url, "phase4", "failures")
    if not check:
        return out
    out["status"] = invoke(url, "--json", "phase4", "status", "--start-date", START, "--end-date", END)
    out["verify"] = invoke(url, "verify", "--start-date", START, "--end-date", END)
    return out


# --------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def sleeps() -> Iterator[list[float]]:
    """Every backoff pause the BigQuery backend takes in this module (the pauses themselves are skipped)."""
    pauses: list[float] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(bq_module, "RetryPolicy",
                   lambda: RetryPolicy(initial=0.01, maximum=0.05, deadline=10.0, sleep=pauses.append))
        yield pauses


@dataclass
class Run:
    url: str
    results: dict[str, Result]
    content: dict[str, TableContent]
    latest: pd.DataFrame
    fake: TrappingFake | None = None
    statements: list[str] = field(default_factory=list)
    loads: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture(scope="module")
def duck(tmp_path_factory: pytest.TempPathFactory) -> Run:
    url = f"duckdb:///{tmp_path_factory.mktemp('duck_chain') / 'w.duckdb'}"
    results = chain(url, init=False, check=False)
    return Run(url, results, snapshot(url), latest_units(url))


@pytest.fixture(scope="module")
def bq(sleeps: list[float]) -> Iterator[Run]:
    fake = TrappingFake().start()
    url = f"bigquery://{PROJECT}?location=US&endpoint={fake.url}&dataset_prefix={PREFIX}"
    try:
        results = chain(url, init=True, read_only_extras=True)
        run = Run(url, results, snapshot(url), latest_units(url), fake,
                  statements=[c["query"] for c in fake.job_configs("query")], loads=list(fake.job_configs("load")))
        yield run
    finally:
        fake.stop()


@pytest.fixture
def fake(bq: Run) -> Iterator[TrappingFake]:
    """The chain's fake endpoint for a fault test; faults are cleared afterwards."""
    assert bq.fake is not None
    yield bq.fake
    bq.fake.clear_faults()
    bq.fake.traps.clear()
    bq.fake.deny_creates = False


def full_dates(run: Run, n: int) -> list[str]:
    """The last `n` dates on which every Phase 4 processor wrote rows (non-bootstrap, real output)."""
    latest = run.latest[run.latest["processor"].isin(PHASE4)]
    ok = latest[(latest["state"] == "COMPLETE") & (latest["rows_written"] > 0)]
    counts = ok.groupby("unit_date")["processor"].nunique()
    days = sorted(d for d, k in counts.items() if k == len(PHASE4))
    assert len(days) >= n, "the range has too few dates with rows in every Phase 4 table"
    return [d.isoformat() for d in days[-n:]]


# ------------------------------------------------------------------------------------ tests


def test_chain_runs_through_the_bigquery_backend(bq: Run) -> None:
    for name, result in bq.results.items():
        assert result.exit_code == 0, (name, result.output)
    counts = json.loads(bq.results["phase4"].stdout)["counts"]
    for proc in PHASE4:
        assert counts[proc].get("SKIPPED_BOOTSTRAP") == 7, (proc, counts[proc])
        assert counts[proc].get("COMPLETE", 0) > 0, (proc, counts[proc])
        assert not set(counts[proc]) & FAILURE_STATES, (proc, counts[proc])
    status = json.loads(bq.results["status"].stdout)
    assert {c["state"] for c in status["cells"]} <= {"COMPLETE", "EXPECTED_EMPTY", "SKIPPED_BOOTSTRAP"}
    assert any(c["rows"] > 0 for c in status["cells"] if c["processor"] == "ml_feature_store")
    assert "❌" not in bq.results["verify"].output and "✅" in bq.results["verify"].output


def test_sample_load_goes_through_load_jobs(bq: Run) -> None:
    """`sample load` loads parquet through the load API (one job per table), not row-by-row DML."""
    destinations = [c["destinationTable"]["tableId"] for c in bq.loads
                    if c["destinationTable"]["datasetId"] != f"{PREFIX}nba_backfill"]
    for name in SAMPLE_TABLES:
        assert destinations.count(name.split(".")[1]) >= 1, name
    assert all(c["sourceFormat"] == "PARQUET" for c in bq.loads)
    assert not [s for s in bq.statements if s.lstrip().upper().startswith("INSERT INTO") and "_staging_" not in s]
    for name in SAMPLE_TABLES:
        dataset, table = name.split(".")
        assert bq.fake.sql(f'SELECT count(*) FROM "{PREFIX}{dataset}"."{table}"')[0][0] > 0, name


def test_phase4_tables_equal_the_duckdb_run(bq: Run, duck: Run) -> None:
    for name, result in duck.results.items():
        assert result.exit_code == 0, (name, result.output)
    for proc in PHASE4:
        got, want = bq.content[proc], duck.content[proc]
        assert want.rows > 0, proc
        if got.digest != want.digest:
            diff = [c for c in want.frame.columns if got.rows != want.rows or not got.frame[c].equals(want.frame[c])]
            pytest.fail(f"{proc}: BigQuery {got.rows} rows, DuckDB {want.rows} rows; columns differing: {diff[:10]}")


def test_phase3_context_equals_the_duckdb_run(bq: Run, duck: Run) -> None:
    got, want = bq.content[CONTEXT], duck.content[CONTEXT]
    assert want.rows > 0
    if got.digest != want.digest:
        diff = [c for c in want.frame.columns if got.rows != want.rows or not got.frame[c].equals(want.frame[c])]
        pytest.fail(f"context: BigQuery {got.rows} rows, DuckDB {want.rows} rows; columns differing: {diff[:10]}")


def test_ledgers_agree_between_backends(bq: Run, duck: Run) -> None:
    cols = ["processor", "unit_date", "state", "rows_written"]
    got, want = bq.latest[cols].astype(str), duck.latest[cols].astype(str)
    pd.testing.assert_frame_equal(got, want)


def test_every_statement_bounds_required_partition_filters(bq: Run) -> None:
    """tables.md §1.4, checked on the SQL text BigQuery itself received (qualified names)."""
    assert len(bq.statements) > 50
    read = {checker._registry_name(t, PREFIX) for s in bq.statements
            for tree in sqlglot.parse(s, read="bigquery") if tree is not None for t in tree.find_all(exp.Table)}
    assert set(checker.REQUIRED) <= read
    assert checker.all_violations(bq.statements, dataset_prefix=PREFIX) == []
    assert checker.all_violations(bq.statements, checker.PARTITIONED, dataset_prefix=PREFIX) == []


def test_statement_budget_per_unit(bq: Run) -> None:
    """At most 3 round-trips per (processor, date) on average (engine spec §8); batched ledger writes."""
    summary = json.loads(bq.results["phase4"].stdout)
    units = sum(sum(c.values()) for c in summary["counts"].values())
    assert sum(summary["statements"].values()) <= 3 * units
    ledger_loads = [c for c in bq.loads if c["destinationTable"]["tableId"] == "units"]
    assert len(ledger_loads) < units / 4  # ledger rows are batched, not one load job per unit


def test_dry_run_lists_the_input_queries_with_estimated_bytes(bq: Run) -> None:
    """On BigQuery the dry run shows each input query and the bytes a query dry run estimates; it writes nothing."""
    planned = json.loads(bq.results["dry4"].stdout)["planned_statements"]
    assert {p["processor"] for p in planned} == set(PHASE4)
    assert all(isinstance(p["bytes"], int) and p["bytes"] > 0 for p in planned), planned[:3]
    dry_jobs = [c for c in bq.fake.job_configs("query") if c.get("dryRun")]
    assert not dry_jobs, "dry runs are not kept as jobs"
    assert checker.all_violations([p["sql"] for p in planned]) == []


def test_summary_reports_load_jobs_per_table(bq: Run) -> None:
    load_jobs = json.loads(bq.results["phase4"].stdout)["load_jobs"]
    assert load_jobs.get("nba_backfill.units", 0) >= 1
    assert all(n < 1500 for n in load_jobs.values())


def test_runs_over_the_load_job_quota_are_refused(bq: Run, fake: TrappingFake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bq_module.BigQueryWarehouse, "load_jobs_per_table_per_day", 2)
    jobs = len(fake.jobs)
    result = invoke(bq.url, "phase4", "run", "--processor", "player_daily_cache", "--force", "--start-date", START,
                    "--end-date", END)
    assert result.exit_code == 3, result.output
    assert "split the range" in " ".join(result.output.split())
    assert not [j for j in list(fake.jobs.values())[jobs:] if "load" in j.resource["configuration"]]


def test_transient_errors_are_retried_and_the_run_completes(bq: Run, fake: TrappingFake, sleeps: list[float]) -> None:
    days = ",".join(full_dates(bq, 3))
    before = len(sleeps)
    fake.fail_next(1, status=429, reason="rateLimitExceeded", message="Exceeded rate limits", method="POST",
                   path_contains="/jobs")
    fake.fail_next(1, status=503, reason="backendError", message="Backend error", path_contains="/queries/")
    fake.fail_next(1, status=500, reason="internalError", message="Internal error", path_contains="/upload/")
    fake.fail_jobs(1)  # "Could not serialize access to table due to concurrent update"
    result = invoke(bq.url, "--json", "phase4", "run", "--all", "--force", "--dates", days)
    assert result.exit_code == 0, result.output
    assert not fake.faults, "every injected fault was hit"
    assert len(sleeps) - before >= 4
    counts = json.loads(result.stdout)["counts"]
    assert all(set(c) <= {"COMPLETE", "EXPECTED_EMPTY"} for c in counts.values()), counts
    after = snapshot(bq.url)
    assert {p: after[p].digest for p in PHASE4} == {p: bq.content[p].digest for p in PHASE4}


def test_runs_need_no_create_permission_once_tables_exist(bq: Run, fake: TrappingFake) -> None:
    """A service account with data-editor rights on existing datasets (no datasets.create) can run."""
    fake.deny_creates, trapped = True, fake.trapped
    result = invoke(bq.url, "--json", "phase4", "run", "--processor", "player_daily_cache", "--force",
                    "--dates", ",".join(full_dates(bq, 1)))
    assert result.exit_code == 0, result.output
    assert invoke(bq.url, "warehouse", "init").exit_code == 0
    assert fake.trapped == trapped, "nothing tried to re-create an existing dataset or table"


@pytest.mark.parametrize("status,reason,message,shown", [
    (403, "accessDenied", "Access Denied: Table player_daily_cache: User does not have permission bigquery.tables.updateData",
     "Access Denied"),
    (404, "notFound", f"Not found: Dataset {PROJECT}:{PREFIX}nba_precompute was not found in location EU", "location="),
    (400, "invalid", "Cannot read and write in different locations: source: US, destination: EU", "location="),
])
def test_permanent_errors_fail_at_once_and_leave_the_run_resumable(bq: Run, fake: TrappingFake, sleeps: list[float],
                                                                    status: int, reason: str, message: str,
                                                                    shown: str) -> None:
    days = ",".join(full_dates(bq, 2))
    target = f"DELETE FROM `{PROJECT}.{PREFIX}nba_precompute.player_daily_cache`".encode()
    fake.traps.append((target, status, reason, message))
    before, trapped = len(sleeps), fake.trapped
    result = invoke(bq.url, "phase4", "run", "--all", "--force", "--dates", days)
    assert result.exit_code != 0
    assert fake.trapped == trapped + 1, "a permanent error is not retried"
    assert len(sleeps) == before
    assert shown in " ".join(result.output.split())
    fake.traps.clear()
    again = invoke(bq.url, "--json", "phase4", "run", "--all", "--dates", days)
    assert again.exit_code == 0, again.output  # resume is the same command: no lease left behind


def test_permanent_errors_fail_only_the_affected_units(bq: Run, fake: TrappingFake) -> None:
    days = full_dates(bq, 2)
    target = f"DELETE FROM `{PROJECT}.{PREFIX}nba_precompute.player_daily_cache`".encode()
    fake.traps.append((target, 403, "accessDenied", "Access Denied: Table player_daily_cache"))
    result = invoke(bq.url, "--json", "phase4", "run", "--all", "--force", "--dates", ",".join(days))
    fake.traps.clear()
    assert result.exit_code == 1, result.output
    counts = json.loads(result.stdout)["counts"]
    for proc in ("team_defense_zone_analysis", "player_shot_zone_analysis", "player_composite_factors"):
        assert set(counts[proc]) <= {"COMPLETE", "EXPECTED_EMPTY"}, (proc, counts[proc])
    assert counts["player_daily_cache"] == {"FAILED": len(days)}
    assert counts["ml_feature_store"] == {"BLOCKED": len(days)}
    listed = json.loads(invoke(bq.url, "--json", "phase4", "failures").stdout)["failures"]
    failed = {(f["processor"], f["date"]): f for f in listed}
    for day in days:
        assert failed[("player_daily_cache", day)]["state"] == "FAILED"
        assert "Access Denied" in (failed[("player_daily_cache", day)]["error_message"] or "")
        assert failed[("ml_feature_store", day)]["state"] == "BLOCKED"
    retry = invoke(bq.url, "--json", "phase4", "run", "--all", "--retry-failed", "--dates", ",".join(days))
    assert retry.exit_code == 0, retry.output
