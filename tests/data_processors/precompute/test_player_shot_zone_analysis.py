"""player_shot_zone_analysis: every spec vector, plus hand-built frames for the rules they leave open."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from data_processors.precompute.player_shot_zone_analysis import player_shot_zone_analysis_processor as psza
from nba_backfill.frames import NORMALIZED_ATTR, normalize_frame
from nba_backfill.tables import table
from nba_backfill.values import serialize
from nba_backfill.vectors import compare, load_examples, run_example
from shot_zone_rows import player_game as game

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "phase4_examples.json"
EXAMPLES = load_examples(VECTORS, "player_shot_zone_analysis")
RUN_TS = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
D = dt.date(2025, 1, 20)
OPENING = dt.date(2024, 10, 22)


def game_dates(n: int, first: dt.date = dt.date(2024, 11, 1)) -> list[dt.date]:
    return [first + dt.timedelta(days=2 * i) for i in range(n)]


def sched(games: list[tuple[dt.date, str, str]]) -> list[dict[str, Any]]:
    rows = [
        dict(game_date=d, season_year=2024, home_team_tricode=h, away_team_tricode=a, game_status=3,
             is_regular_season=True, is_playoffs=False)
        for d, h, a in games
    ]  # fmt: skip
    rows.append(dict(game_date=OPENING, season_year=2024, home_team_tricode="XXA", away_team_tricode="XXB",
                     game_status=1, is_regular_season=True, is_playoffs=False))  # fmt: skip
    return rows




def inputs_for(rows: list[dict[str, Any]], n_sched: int = 10) -> dict[str, list[dict[str, Any]]]:
    return {psza.PGS: rows, psza.SCHEDULE: sched([(d, "BOS", "NYK") for d in game_dates(n_sched)])}


def run(inputs: dict[str, Any], day: dt.date = D):
    return psza.compute(day, inputs, RUN_TS)


def row_of(result, player: str) -> dict[str, Any]:
    rows = result.rows[result.rows["player_lookup"] == player].to_dict("records")
    assert len(rows) == 1, f"expected one row for {player}, got {len(rows)} ({result.outcome}: {result.reason})"
    return rows[0]


# --- spec vectors ---------------------------------------------------------------------------


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["description"][:60] for e in EXAMPLES])
def test_spec_vector(example: dict[str, Any]) -> None:
    problems = compare(example, run_example(example))
    assert not problems, example["description"] + "\n" + "\n".join(problems)


def test_vector_count() -> None:
    assert len(EXAMPLES) == 4


def test_tatum_canonical_hash_string() -> None:
    row = row_of(run_example(EXAMPLES[0]), "jaysontatum")
    spec = table(psza.OUTPUT)
    canonical = "|".join(serialize(row[f], spec.column(f).type) for f in psza.HASH_FIELDS)
    assert canonical == (
        "jaysontatum|jaysontatum_001|2024-12-20|40.63|34.38|25.00|128|10|excellent|0.500|0.386|0.313"
        "|5.2|4.4|3.2|||12|limited|60.38|39.62||paint|high|"
    )
    assert row["data_hash"] == "202a5b6e97f1cc62"


@pytest.mark.parametrize("loader_normalized", [False, True])
def test_typed_frames_give_the_same_rows_as_json_rows(loader_normalized: bool) -> None:
    """The loader passes typed (and already normalized) frames; JSON vectors pass strings."""
    example = EXAMPLES[2]
    typed = {}
    for name, rows in example["inputs"].items():
        df = pd.DataFrame(rows)
        df["game_date"] = pd.to_datetime(df["game_date"])
        if loader_normalized:
            df = normalize_frame(df, table(name))
            df.attrs[NORMALIZED_ATTR] = name
        typed[name] = df
    a = run_example(example).rows
    b = psza.compute(dt.date.fromisoformat(example["date"]), typed, RUN_TS).rows
    pd.testing.assert_frame_equal(a.drop(columns=["data_quality_issues"]), b.drop(columns=["data_quality_issues"]))
    assert list(a["data_quality_issues"]) == list(b["data_quality_issues"])


def test_unread_columns_do_not_matter() -> None:
    rows = [game("p", d, points=30, fg_attempts=99, player_status="x") for d in game_dates(10)]
    plain = [game("p", d) for d in game_dates(10)]
    assert list(run(inputs_for(rows)).rows["data_hash"]) == list(run(inputs_for(plain)).rows["data_hash"])


# --- contract and outcomes ------------------------------------------------------------------


def test_spec_declaration() -> None:
    spec = psza.SPEC
    assert (spec.name, spec.phase, spec.date_column, spec.output_table) == (
        "player_shot_zone_analysis", 4, "analysis_date", "nba_precompute.player_shot_zone_analysis")
    assert spec.upstreams == () and spec.needs_context is False and spec.bootstrap_skip is True
    assert [(i.table, i.window) for i in spec.inputs] == [(psza.PGS, "season_to_date"), (psza.SCHEDULE, "season_to_date")]
    for inp in spec.inputs:
        assert set(inp.columns) <= set(table(inp.table).column_names)


def test_rows_carry_every_contract_column() -> None:
    result = run(inputs_for([game("p", d) for d in game_dates(10)]))
    assert list(result.rows.columns) == table(psza.OUTPUT).column_names
    row = row_of(result, "p")
    assert row["processed_at"] == pd.Timestamp(RUN_TS) and row["player_position"] is None
    assert row["source_player_game_last_updated"] == pd.Timestamp("2025-01-19T08:00:00Z")
    assert row["source_player_game_hash"] is None and row["early_season_flag"] == False  # noqa: E712


def test_bootstrap_day() -> None:
    result = run(inputs_for([game("p", d) for d in game_dates(10)]), OPENING + dt.timedelta(days=6))
    assert (result.outcome, result.reason) == ("SKIPPED_BOOTSTRAP", "bootstrap day 6 of season 2024")
    assert run(inputs_for([]), OPENING + dt.timedelta(days=7)).outcome == "EXPECTED_EMPTY"


def test_failed_when_schedule_has_games_but_phase3_is_empty() -> None:
    result = run(inputs_for([], n_sched=12))
    assert result.outcome == "FAILED" and len(result.rows) == 0
    assert result.reason == "0/0 players have 10 active games although the schedule shows 12 final games for some team"


def test_expected_empty_below_ten_scheduled_games() -> None:
    result = run(inputs_for([game("p", d) for d in game_dates(9)], n_sched=9))
    assert (result.outcome, result.reason) == ("EXPECTED_EMPTY", "0/1 players have 10 active games")
    assert [(s.entity_id, s.category, s.reason) for s in result.skipped] == [("p", "insufficient_data", "9 active games, need 10")]


def test_numeric_out_of_range_fails_the_whole_date() -> None:
    rows = [game("p", d) for d in game_dates(10)] + [game("q", d) for d in game_dates(10)]
    rows[0]["paint_attempts"] = 20_000  # 2000 per game > NUMERIC(4,1)
    result = run(inputs_for(rows))
    assert result.outcome == "FAILED" and len(result.rows) == 0
    assert "paint_attempts_per_game" in result.reason


# --- active games and windows ---------------------------------------------------------------


def test_only_active_games_with_minutes_count() -> None:
    dates = game_dates(14)
    rows = [game("p", d) for d in dates[:10]]
    rows += [
        game("p", dates[10], is_active=None),
        game("p", dates[11], minutes_played=None),
        game("p", dates[12], minutes_played=0.0),
        game("p", dates[13], is_active=False, minutes_played=None),
    ]
    row = row_of(run(inputs_for(rows)), "p")
    assert (row["games_in_sample_10"], row["games_in_sample_20"]) == (10, 10)
    rows[0]["is_active"] = False
    result = run(inputs_for(rows))
    assert result.outcome == "EXPECTED_EMPTY" or len(result.rows) == 0
    assert [s.reason for s in result.skipped] == ["9 active games, need 10"]


def test_twenty_game_fields_need_fifteen_active_games() -> None:
    dates = game_dates(15)
    # The 5 oldest games are all paint; the 10 newest are the default 5/2/3 split.
    old = dict(paint_attempts=10, paint_makes=8, mid_range_attempts=0, mid_range_makes=0,
               three_pt_attempts=0, three_pt_makes=0)  # fmt: skip
    rows = [game("p", d, **old) for d in dates[:5]] + [game("p", d) for d in dates[5:]]
    row = row_of(run(inputs_for(rows)), "p")
    assert row["games_in_sample_20"] == 15 and row["sample_quality_20"] == "good"
    assert row["paint_rate_last_20"] == round(100 * (50 + 50) / (50 + 100), 2)
    assert row["paint_pct_last_20"] == round((40 + 30) / 100, 3)
    assert row["paint_rate_last_10"] == 50.0  # the short window is unaffected
    row = row_of(run(inputs_for(rows[1:])), "p")
    assert row["games_in_sample_20"] == 14 and row["sample_quality_20"] == "good"
    assert pd.isna(row["paint_rate_last_20"]) and pd.isna(row["paint_pct_last_20"])


def test_duplicate_rows_collapse_to_the_latest_processed() -> None:
    dates = game_dates(10)
    rows = [game("p", d) for d in dates]
    rows.append(game("p", dates[-1], game_id="dup", paint_attempts=15, processed_at="2025-01-19T09:00:00Z"))
    row = row_of(run(inputs_for(rows)), "p")
    assert row["games_in_sample_10"] == 10
    assert row["paint_attempts_per_game"] == 6.0  # (9 * 5 + 15) / 10
    assert row["source_player_game_last_updated"] == pd.Timestamp("2025-01-19T09:00:00Z")


def test_other_season_and_same_day_rows_are_ignored() -> None:
    rows = [game("p", d) for d in game_dates(10)]
    rows.append(game("p", D, paint_attempts=99))
    rows.append(game("p", dt.date(2024, 3, 1), season_year=2023, paint_attempts=99))
    row = row_of(run(inputs_for(rows)), "p")
    assert row["paint_attempts_per_game"] == 5.0 and row["games_in_sample_20"] == 10


def test_universal_player_id_is_the_newest_non_null() -> None:
    dates = game_dates(11)
    rows = [game("p", d, universal_player_id="old_id") for d in dates[:9]]
    rows.append(game("p", dates[9], universal_player_id="new_id"))
    rows.append(game("p", dates[10], universal_player_id=None, is_active=False))
    rows += [game("q", d, universal_player_id=None) for d in dates[:10]]
    result = run(inputs_for(rows))
    assert row_of(result, "p")["universal_player_id"] == "new_id"
    assert row_of(result, "q")["universal_player_id"] is None


# --- derived labels -------------------------------------------------------------------------


def test_sample_quality_thresholds() -> None:
    assert [psza.sample_quality(n, 10) for n in (10, 7, 6, 5, 4, 0)] == [
        "excellent", "good", "limited", "limited", "insufficient", "insufficient"]  # fmt: skip
    assert [psza.sample_quality(n, 20) for n in (20, 14, 13, 10, 9)] == [
        "excellent", "good", "limited", "limited", "insufficient"]  # fmt: skip


def test_quality_tier() -> None:
    assert [psza.quality_tier(n) for n in (10, 9, 7, 6)] == ["high", "medium", "medium", "low"]


def test_primary_zone_rules() -> None:
    assert psza.primary_zone(None, None, None) is None
    assert psza.primary_zone(0.0, 0.0, 0.0) is None
    assert psza.primary_zone(40.0, 20.0, 40.0) == "paint"
    assert psza.primary_zone(39.99, 20.0, 40.0) == "perimeter"
    assert psza.primary_zone(30.0, 35.0, 35.0) == "mid_range"
    assert psza.primary_zone(35.0, 34.99, 30.01) == "balanced"
    assert psza.primary_zone(None, 100.0, None) == "mid_range"


def test_primary_zone_uses_the_stored_rate() -> None:
    """1601 / 4003 = 39.99500...% stores as 40.00, so the zone is paint (raw value: balanced)."""
    per_game = dict(paint_attempts=0, mid_range_attempts=0, three_pt_attempts=0)
    rows = [game("p", d, **per_game) for d in game_dates(10)]
    rows[0].update(paint_attempts=1601, mid_range_attempts=1201, three_pt_attempts=1201)
    row = row_of(run(inputs_for(rows)), "p")
    assert row["paint_rate_last_10"] == 40.0 and row["total_shots_last_10"] == 4003
    assert row["primary_scoring_zone"] == "paint"


def test_assisted_rates_need_fg_makes_and_need_not_sum_to_100() -> None:
    rows = [game("p", d, fg_makes=10, assisted_fg_makes=5, unassisted_fg_makes=None) for d in game_dates(10)]
    row = row_of(run(inputs_for(rows)), "p")
    assert (row["assisted_rate_last_10"], row["unassisted_rate_last_10"]) == (50.0, 0.0)


def test_missing_zone_data_note_and_issue() -> None:
    rows = [game("p", d) for d in game_dates(10)]
    rows[3]["three_pt_attempts"] = None
    row = row_of(run(inputs_for(rows)), "p")
    assert row["calculation_notes"] == "1 of 10 games missing zone data"
    assert row["data_quality_issues"] == ["missing_zone_data"]
    assert row["total_shots_last_10"] == 97


# --- completeness ---------------------------------------------------------------------------


def test_completeness_uses_the_team_of_the_newest_row() -> None:
    """Traded BOS -> NYK: expected = NYK's last 10 final games, of which he played 5."""
    bos_dates = game_dates(10, dt.date(2024, 11, 1))
    nyk_dates = game_dates(10, dt.date(2024, 12, 1))
    rows = [game("p", d) for d in bos_dates[:6]] + [game("p", d, team_abbr="NYK") for d in nyk_dates[5:]]
    schedule = sched([(d, "BOS", "MIA") for d in bos_dates] + [(d, "NYK", "ORL") for d in nyk_dates])
    row = row_of(run({psza.PGS: rows, psza.SCHEDULE: schedule}), "p")
    assert row["games_in_sample_10"] == 10  # the window spans both teams
    assert (row["expected_games_count"], row["actual_games_count"], row["missing_games_count"]) == (10, 5, 5)
    assert row["completeness_percentage"] == 50.0 and row["source_player_game_completeness_pct"] == 50.0
    assert row["is_production_ready"] == False  # noqa: E712
    assert row["data_quality_issues"] == ["own_data_incomplete"]


def test_dnp_rows_count_as_present_for_completeness() -> None:
    dates = game_dates(12)
    rows = [game("p", d) for d in dates[:10]] + [game("p", d, is_active=False, minutes_played=0) for d in dates[10:]]
    row = row_of(run(inputs_for(rows, n_sched=12)), "p")
    assert (row["expected_games_count"], row["actual_games_count"]) == (10, 10)
    assert row["completeness_percentage"] == 100.0 and row["is_production_ready"] == True  # noqa: E712
