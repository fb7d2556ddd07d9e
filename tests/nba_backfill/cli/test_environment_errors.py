"""Environment problems exit 3 with one line that names the table and the command that fills it."""
from __future__ import annotations

import json


def test_empty_warehouse_names_the_missing_table(cli, tmp_path) -> None:
    result = cli(f"duckdb:///{tmp_path}/empty.duckdb", "phase4", "run", "--all", "--dates", "2022-01-05")
    assert result.exit_code == 3, result.output
    assert "nba_raw.nbac_schedule" in result.output and "sample load" in result.output
    assert "Traceback" not in result.output


def test_phase4_without_phase3_names_the_phase3_command(cli, sample_url: str) -> None:
    result = cli(sample_url, "phase4", "run", "--all", "--dates", "2021-11-30")
    assert result.exit_code == 3, result.output
    assert "upcoming_player_game_context" in result.output and "phase3 run" in result.output


def test_blocked_context_unit_says_how_to_fill_it(cli, sample_url: str) -> None:
    assert cli(sample_url, "phase3", "run", "--dates", "2021-11-29").exit_code == 0
    result = cli(sample_url, "--json", "phase4", "run", "--processor", "player_composite_factors", "--dates", "2021-11-30",
                 "--skip-preflight")
    assert result.exit_code == 1
    failure = json.loads(result.output)["failures"][0]
    assert failure["state"] == "BLOCKED"
    assert "phase3 run --processor upcoming_player_game_context --dates 2021-11-30" in failure["reason"]


def test_bad_warehouse_url_exits_2(cli) -> None:
    result = cli("postgres://nope", "phase4", "status", "--start-date", "2021-11-01", "--end-date", "2021-11-02")
    assert result.exit_code == 2, result.output
    assert "postgres://nope" in result.output
