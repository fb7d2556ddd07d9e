"""A wrapper exists per processor at its fixed deploy path and delegates to the one runner."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nba_backfill.registry import default_registry

ROOT = Path(__file__).resolve().parents[2]
PHASE4 = ["team_defense_zone_analysis", "player_shot_zone_analysis", "player_composite_factors", "player_daily_cache", "ml_feature_store"]


def test_registry_wrappers_are_the_fixed_deploy_paths() -> None:
    registry = default_registry()
    assert registry.names(4) == PHASE4
    for proc in PHASE4:
        assert registry.get(proc).wrapper == f"backfill_jobs/precompute/{proc}/{proc}_precompute_backfill.py"
        assert (ROOT / registry.get(proc).wrapper).is_file()
    upgc = registry.get("upcoming_player_game_context")
    assert upgc.wrapper == "backfill_jobs/analytics/upcoming_player_game_context/upcoming_player_game_context_analytics_backfill.py"
    assert (ROOT / upgc.wrapper).is_file()


@pytest.mark.parametrize("proc", default_registry().names())
def test_wrapper_is_thin(proc: str) -> None:
    text = (ROOT / default_registry().get(proc).wrapper).read_text()
    code = [l for l in text.splitlines() if l.strip() and not l.startswith(('"""', "#"))]
    assert len(code) <= 4 and f'job_main("{proc}")' in text and "sys.path" not in text


def _run(wrapper: str, *args: str, url: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, NBA_BACKFILL_WAREHOUSE=url or "")
    if url is None:
        env.pop("NBA_BACKFILL_WAREHOUSE")
    return subprocess.run([sys.executable, str(ROOT / wrapper), *args], capture_output=True, text=True, env=env, timeout=300)


def test_phase3_wrapper_dry_run_shows_bettingpros_players_and_writes_nothing(sample_url: str) -> None:
    from nba_backfill.warehouse import connect

    wrapper = default_registry().get("upcoming_player_game_context").wrapper
    result = _run(wrapper, "--dry-run", "--start-date", "2021-11-01", "--end-date", "2021-11-01", url=sample_url)
    assert result.returncode == 0, result.stderr
    assert "2021-11-01" in result.stdout
    assert "0 players available" not in result.stdout
    wh = connect(sample_url)
    try:
        assert not wh.table_exists("nba_backfill.units")
    finally:
        wh.close()


def test_phase4_wrapper_runs_one_processor(sample_url: str) -> None:
    wrapper = default_registry().get("team_defense_zone_analysis").wrapper
    result = _run(wrapper, "--dates", "2021-11-30", url=sample_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "team_defense_zone_analysis" in result.stdout
    bad = _run(wrapper, "--start-date", "2021-11-30", "--end-date", "2021-11-01", url=sample_url)
    assert bad.returncode == 2 and "is after" in bad.stderr
