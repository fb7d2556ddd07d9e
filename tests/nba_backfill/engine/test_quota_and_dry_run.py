"""Load-job quota refusal and the dry run's planned statements (BigQuery cost awareness, run on DuckDB)."""
from __future__ import annotations

import datetime as dt

import pytest

from nba_backfill.engine.runner import RunRequest, Runner
from nba_backfill.errors import EnvironmentProblem
from nba_backfill.registry import default_registry
from nba_backfill.warehouse import connect


def test_run_over_the_daily_load_job_quota_is_refused_before_writing(sample_url: str) -> None:
    wh = connect(sample_url)
    try:
        wh.load_jobs_per_table_per_day = 3  # type: ignore[attr-defined]  # as BigQuery's 1,500, scaled down
        request = RunRequest(processors=("team_defense_zone_analysis",), start=dt.date(2021, 10, 26),
                             end=dt.date(2021, 12, 4), batch_days=5)
        with pytest.raises(EnvironmentProblem, match="load jobs .* split the range"):
            Runner(wh, default_registry()).run(request)
        assert not wh.table_exists("nba_backfill.units")
    finally:
        wh.close()


def test_dry_run_lists_partition_filtered_input_queries_and_writes_nothing(sample_url: str) -> None:
    wh = connect(sample_url)
    try:
        request = RunRequest(processors=("player_shot_zone_analysis",), start=dt.date(2021, 11, 1), end=dt.date(2021, 11, 5), dry_run=True)
        before = wh.statements
        summary = Runner(wh, default_registry()).run(request)
        assert {o.state for o in summary.outcomes} == {"WILL_RUN"}
        tables = {s["sql"].split(" FROM ")[1].split()[0] for s in summary.planned_statements}
        assert "nba_analytics.player_game_summary" in tables and "nba_raw.nbac_schedule" in tables
        for st in summary.planned_statements:
            assert "WHERE" in st["sql"] and st["params"]["hi"] == "2021-11-05"
        assert wh.statements - before < 20
        assert not wh.table_exists("nba_backfill.units")
    finally:
        wh.close()


def test_dry_run_lists_exactly_the_input_reads_the_run_issues(sample_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan comes from the same block and InputCache decisions as the run: shared season reads once."""
    from nba_backfill.engine import loader

    procs = ("team_defense_zone_analysis", "player_shot_zone_analysis")
    kw = dict(processors=procs, start=dt.date(2021, 11, 1), end=dt.date(2021, 12, 20), batch_days=10)
    wh = connect(sample_url)
    try:
        planned = [(s["sql"], s["params"]) for s in Runner(wh, default_registry()).run(RunRequest(dry_run=True, **kw)).planned_statements]
        issued: list[tuple[str, dict]] = []
        real = loader._read

        def spy(warehouse, table, columns, bounds, exists=None):
            params = {} if bounds is None else {"lo": str(bounds[0]), "hi": str(bounds[1])}
            issued.append((loader.select_sql(table, columns, bounds is not None), params))
            return real(warehouse, table, columns, bounds, exists)

        monkeypatch.setattr(loader, "_read", spy)
        Runner(wh, default_registry()).run(RunRequest(**kw))
    finally:
        wh.close()
    assert planned == issued
    registry = default_registry()
    per_block = sum(len(registry.get(p).inputs) for p in procs) * 5  # five 10-day blocks
    assert 0 < len(planned) < per_block  # the cache serves later blocks from the first season read
