"""The engine end to end on a real DuckDB file with sample data (2021-22, through early December)."""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from nba_backfill.engine.runner import RunRequest, Runner
from nba_backfill.registry import default_registry
from nba_backfill.warehouse import connect

START, END = "2021-10-19", "2021-12-04"
PHASE4 = default_registry().names(4)
BOOKKEEPING = {"processed_at", "created_at"}


def _phase3(cli, url: str):
    return cli(url, "phase3", "run", "--processor", "upcoming_player_game_context", "--start-date", START, "--end-date", END)


def _phase4(cli, url: str, *extra: str, json_output: bool = False):
    head = ["--json"] if json_output else []
    return cli(url, *head, "phase4", "run", "--all", "--start-date", START, "--end-date", END, *extra)


def _latest(url: str) -> pd.DataFrame:
    wh = connect(url)
    try:
        return wh.query(
            "SELECT processor, unit_date, state, reason, rows_written FROM (SELECT *, ROW_NUMBER() OVER "
            "(PARTITION BY processor, unit_date ORDER BY finished_at DESC) AS rn FROM nba_backfill.units "
            "WHERE unit_date BETWEEN @a AND @b) WHERE rn = 1",
            {"a": dt.date(2021, 10, 1), "b": dt.date(2022, 7, 1)},
        )
    finally:
        wh.close()


def _table(url: str, name: str, date_col: str) -> pd.DataFrame:
    wh = connect(url)
    try:
        df = wh.query(f"SELECT * FROM {name} WHERE {date_col} BETWEEN @a AND @b", {"a": dt.date(2021, 10, 1), "b": dt.date(2022, 7, 1)})
    finally:
        wh.close()
    df = df.drop(columns=[c for c in df.columns if c in BOOKKEEPING or c.endswith("_last_updated")])
    return df.sort_values(list(df.columns[:2])).reset_index(drop=True).astype(str)


@pytest.fixture(scope="module")
def full_run_db(sample_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Phase 3 and Phase 4 over the whole sample range, run once per module."""
    from typer.testing import CliRunner

    from nba_backfill.cli import app

    path = tmp_path_factory.mktemp("full") / "full.duckdb"
    shutil.copy(sample_db, path)
    url = f"duckdb:///{path}"
    runner = CliRunner()
    r3 = runner.invoke(app, ["--warehouse", url, "phase3", "run", "--start-date", START, "--end-date", END])
    assert r3.exit_code == 0, r3.output
    r4 = runner.invoke(app, ["--warehouse", url, "phase4", "run", "--all", "--start-date", START, "--end-date", END])
    assert r4.exit_code == 0, r4.output
    return path


@pytest.fixture
def full_run(full_run_db: Path, tmp_path: Path) -> str:
    """A private copy of the fully run warehouse."""
    target = tmp_path / "full.duckdb"
    shutil.copy(full_run_db, target)
    return f"duckdb:///{target}"


def test_full_range_ends_in_terminal_non_failure_states(cli, full_run: str) -> None:
    status = cli(full_run, "--json", "phase4", "status", "--start-date", START, "--end-date", END)
    assert status.exit_code == 0, status.output
    cells = json.loads(status.output)["cells"]
    assert {c["state"] for c in cells} <= {"COMPLETE", "EXPECTED_EMPTY", "SKIPPED_BOOTSTRAP", "NO_SOURCE_DATA"}
    assert len(cells) == 6 * len({c["date"] for c in cells})
    human = cli(full_run, "phase4", "status", "--start-date", START, "--end-date", END)
    assert "Season 2021-22" in human.output and "■" in human.output
    failures = cli(full_run, "--json", "phase4", "failures")
    assert json.loads(failures.output) == {"failures": [], "retry_commands": []}
    latest = _latest(full_run)
    p4 = latest[latest["processor"].isin(PHASE4)]
    assert set(p4["state"]) <= {"COMPLETE", "EXPECTED_EMPTY", "SKIPPED_BOOTSTRAP", "NO_SOURCE_DATA"}
    boot = p4[p4["state"] == "SKIPPED_BOOTSTRAP"]
    assert sorted({pd.Timestamp(d).date() for d in boot["unit_date"]})[0] == dt.date(2021, 10, 19)
    assert pd.Timestamp(boot["unit_date"].max()).date() <= dt.date(2021, 10, 25)
    for proc in PHASE4:
        assert (p4[p4["processor"] == proc]["state"] == "COMPLETE").sum() > 0, proc
    # Every Phase 4 unit's ledger row count matches its partition.
    registry = default_registry()
    for proc in PHASE4:
        spec = registry.get(proc)
        table = _table(full_run, spec.output_table, spec.date_column)
        written = p4[(p4["processor"] == proc)]["rows_written"].fillna(0).sum()
        assert len(table) == written, proc


def test_second_run_does_no_work_and_force_gives_identical_tables(cli, full_run: str) -> None:
    again = _phase4(cli, full_run, json_output=True)
    assert again.exit_code == 0, again.output
    counts = json.loads(again.output)["counts"]
    assert all(set(c) <= {"DONE_EARLIER", "SKIPPED_BOOTSTRAP"} for c in counts.values()), counts
    registry = default_registry()
    before = {p: _table(full_run, registry.get(p).output_table, registry.get(p).date_column) for p in PHASE4}
    forced = _phase4(cli, full_run, "--force")
    assert forced.exit_code == 0, forced.output
    for p in PHASE4:
        after = _table(full_run, registry.get(p).output_table, registry.get(p).date_column)
        pd.testing.assert_frame_equal(before[p], after, obj=p)


def test_failed_units_block_downstream_and_retry_command_completes(cli, sample_url: str) -> None:
    assert _phase3(cli, sample_url).exit_code == 0
    bad = {dt.date(2021, 11, 10), dt.date(2021, 11, 12)}
    wh = connect(sample_url)
    try:
        summary = Runner(wh, default_registry()).run(RunRequest(
            processors=tuple(PHASE4), start=dt.date(2021, 11, 1), end=dt.date(2021, 11, 20),
            fail_on={"player_shot_zone_analysis": frozenset(bad)}))
    finally:
        wh.close()
    assert summary.exit_code() == 1
    states = {(o.processor, o.day): o.state for o in summary.outcomes}
    for day in bad:
        assert states[("player_shot_zone_analysis", day)] == "FAILED"
        for down in ("player_composite_factors", "player_daily_cache", "ml_feature_store"):
            assert states[(down, day)] == "BLOCKED"
        assert states[("team_defense_zone_analysis", day)] in ("COMPLETE", "EXPECTED_EMPTY")
    assert states[("ml_feature_store", dt.date(2021, 11, 11))] == "COMPLETE"
    retry = summary.retry_commands()
    assert retry[0] == "nba-backfill phase4 run --processor player_shot_zone_analysis --dates 2021-11-10,2021-11-12"
    args = retry[0].split()[1:]
    assert cli(sample_url, *args).exit_code == 0
    blocked_retry = [c for c in summary.retry_commands() if c.startswith("nba-backfill") and "player_composite_factors" in c][0]
    result = cli(sample_url, *blocked_retry.split()[1:])
    assert result.exit_code == 0, result.output
    failures = cli(sample_url, "--json", "phase4", "failures")
    remaining = json.loads(failures.output)["failures"]
    assert not [f for f in remaining if f["processor"] in ("player_shot_zone_analysis", "player_composite_factors")
                and f["date"] in ("2021-11-10", "2021-11-12")]


def test_missing_phase3_date_shows_in_dry_run_and_degrades_units(cli, sample_url: str) -> None:
    assert _phase3(cli, sample_url).exit_code == 0
    wh = connect(sample_url)
    try:
        wh.execute("DELETE FROM nba_analytics.player_game_summary WHERE game_date = @d", {"d": dt.date(2021, 11, 15)})
    finally:
        wh.close()
    dry = cli(sample_url, "--json", "phase4", "run", "--processor", "team_defense_zone_analysis",
              "--start-date", "2021-11-14", "--end-date", "2021-11-17", "--dry-run")
    assert dry.exit_code == 0, dry.output
    avail = {r["date"]: r for r in json.loads(dry.output)["availability"]}
    assert avail["2021-11-15"]["phase3_gaps"] == 0
    assert "2021-11-15" in avail["2021-11-16"]["phase3_gap_dates"]
    run = cli(sample_url, "phase4", "run", "--processor", "team_defense_zone_analysis", "--processor", "player_shot_zone_analysis",
              "--start-date", "2021-11-14", "--end-date", "2021-11-17")
    assert run.exit_code == 1
    latest = _latest(sample_url).set_index(["processor", "unit_date"])
    assert latest.loc[("player_shot_zone_analysis", pd.Timestamp("2021-11-16"))]["state"] == "DEGRADED"
    assert latest.loc[("player_shot_zone_analysis", pd.Timestamp("2021-11-15"))]["state"] in ("COMPLETE", "EXPECTED_EMPTY")


def test_held_lease_exits_3_naming_the_holder(cli, sample_url: str) -> None:
    from nba_backfill.engine.ledger import Ledger

    wh = connect(sample_url)
    try:
        ledger = Ledger(wh)
        ledger.ensure()
        ledger.acquire(["team_defense_zone_analysis"], "other-run", "otherhost:4242", dt.datetime.now(dt.timezone.utc))
    finally:
        wh.close()
    result = cli(sample_url, "phase4", "run", "--processor", "team_defense_zone_analysis", "--dates", "2021-11-10")
    assert result.exit_code == 3, result.output
    assert "otherhost:4242" in result.output


def test_forced_upstream_rewrite_marks_downstream_stale(cli, full_run: str) -> None:
    day = "2021-11-30"
    r = cli(full_run, "phase4", "run", "--processor", "team_defense_zone_analysis", "--dates", day, "--force")
    assert r.exit_code == 0, r.output
    latest = _latest(full_run).set_index(["processor", "unit_date"])
    for down in ("player_composite_factors", "ml_feature_store"):
        assert latest.loc[(down, pd.Timestamp(day))]["state"] == "STALE"
    assert latest.loc[("player_daily_cache", pd.Timestamp(day))]["state"] == "COMPLETE"
    rerun = _phase4(cli, full_run, json_output=True)
    assert rerun.exit_code == 0
    latest = _latest(full_run).set_index(["processor", "unit_date"])
    assert latest.loc[("ml_feature_store", pd.Timestamp(day))]["state"] == "COMPLETE"


def test_verify_passes_after_run_and_fails_when_a_date_is_deleted(cli, full_run: str) -> None:
    ok = cli(full_run, "verify", "--start-date", START, "--end-date", END)
    assert ok.exit_code == 0, ok.output
    wh = connect(full_run)
    try:
        wh.execute("DELETE FROM nba_precompute.player_daily_cache WHERE cache_date = @d", {"d": dt.date(2021, 11, 30)})
    finally:
        wh.close()
    bad = cli(full_run, "verify", "--start-date", START, "--end-date", END)
    assert bad.exit_code == 1
    assert "2021-11-30" in bad.output
