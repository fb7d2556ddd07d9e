"""team_defense_zone_analysis: every spec vector, plus hand-built frames for the rules they leave open."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from data_processors.precompute.team_defense_zone_analysis import team_defense_zone_analysis_processor as tdza
from nba_backfill.frames import NORMALIZED_ATTR, normalize_frame
from nba_backfill.tables import table
from nba_backfill.values import hash_values, serialize
from nba_backfill.vectors import compare, load_examples, run_example

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "phase4_examples.json"
EXAMPLES = load_examples(VECTORS, "team_defense_zone_analysis")
RUN_TS = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
D = dt.date(2024, 12, 20)
OPENING = dt.date(2024, 10, 22)


def game_dates(n: int, first: dt.date = dt.date(2024, 11, 1)) -> list[dt.date]:
    return [first + dt.timedelta(days=2 * i) for i in range(n)]


def sched(games: list[tuple[dt.date, str, str]], status: int = 3, regular: bool = True) -> list[dict[str, Any]]:
    """Schedule rows, plus an opening-night row so the opening night is OPENING."""
    rows = [
        dict(game_date=d, season_year=2024, home_team_tricode=h, away_team_tricode=a, game_status=status,
             is_regular_season=regular, is_playoffs=False)
        for d, h, a in games
    ]  # fmt: skip
    rows.append(dict(game_date=OPENING, season_year=2024, home_team_tricode="XXA", away_team_tricode="XXB",
                     game_status=1, is_regular_season=True, is_playoffs=False))  # fmt: skip
    return rows


def defense(team: str, day: dt.date, **values: Any) -> dict[str, Any]:
    """One team_defense_game_summary row with plain default stats, overridable per test."""
    row: dict[str, Any] = dict(
        defending_team_abbr=team, game_id=f"{day:%Y%m%d}_{team}", game_date=day, season_year=2024,
        opp_paint_makes=20, opp_paint_attempts=40, opp_mid_range_makes=8, opp_mid_range_attempts=20,
        opp_three_pt_makes=14, opp_three_pt_attempts=40, points_in_paint_allowed=40,
        blocks_paint=2, blocks_mid_range=1, blocks_three_pt=0, points_allowed=110,
        defensive_rating=110.0, opponent_pace=100.0, processed_at="2024-12-19T08:00:00Z",
    )  # fmt: skip
    row.update(values)
    return row


def two_team_inputs(n: int = 15, **values: Any) -> dict[str, list[dict[str, Any]]]:
    dates = game_dates(n)
    return {
        tdza.TDGS: [defense(t, d, **values) for d in dates for t in ("BOS", "NYK")],
        tdza.SCHEDULE: sched([(d, "BOS", "NYK") for d in dates]),
    }


def run(inputs: dict[str, Any], day: dt.date = D):
    return tdza.compute(day, inputs, RUN_TS)


def row_of(result, team: str) -> dict[str, Any]:
    rows = result.rows[result.rows["team_abbr"] == team].to_dict("records")
    assert len(rows) == 1, f"expected one row for {team}, got {len(rows)}"
    return rows[0]


# --- spec vectors ---------------------------------------------------------------------------


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["description"][:60] for e in EXAMPLES])
def test_spec_vector(example: dict[str, Any]) -> None:
    problems = compare(example, run_example(example))
    assert not problems, example["description"] + "\n" + "\n".join(problems)


def test_vector_count() -> None:
    assert len(EXAMPLES) == 4


def test_bos_hash_matches_the_spec_canonical_string() -> None:
    result = run_example(EXAMPLES[0])
    bos = row_of(result, "BOS")
    spec = table(tdza.OUTPUT)
    types = [spec.column(f).type for f in tdza.HASH_FIELDS]
    canonical = "|".join(serialize(bos[f], t) for f, t in zip(tdza.HASH_FIELDS, types))
    assert canonical == (
        "BOS|2024-12-20|0.563|37.3|42.3|1.9|-1.75|0.400|20.0|1.0|-1.00|0.343|35.0|0.0|-1.21|112.14|111.0|99.2|15"
        "|paint|mid_range|high|League averages defaulted (0/10 teams qualified)"
    )
    assert bos["data_hash"] == "25063b8c208b380e"
    assert hash_values([bos[f] for f in tdza.HASH_FIELDS], types) == "25063b8c208b380e"


@pytest.mark.parametrize("loader_normalized", [False, True])
def test_typed_frames_give_the_same_rows_as_json_rows(loader_normalized: bool) -> None:
    """The loader passes typed (and already normalized) frames; JSON vectors pass strings."""
    example = EXAMPLES[0]
    typed = {}
    for name, rows in example["inputs"].items():
        df = pd.DataFrame(rows)
        df["game_date"] = pd.to_datetime(df["game_date"])
        if loader_normalized:
            df = normalize_frame(df, table(name))
            df.attrs[NORMALIZED_ATTR] = name
        typed[name] = df
    a = run_example(example).rows
    b = tdza.compute(dt.date.fromisoformat(example["date"]), typed, RUN_TS).rows
    pd.testing.assert_frame_equal(a.drop(columns=["data_quality_issues"]), b.drop(columns=["data_quality_issues"]))
    assert list(a["data_quality_issues"]) == list(b["data_quality_issues"])


# --- contract -------------------------------------------------------------------------------


def test_spec_declaration() -> None:
    spec = tdza.SPEC
    assert (spec.name, spec.phase, spec.date_column, spec.output_table) == (
        "team_defense_zone_analysis", 4, "analysis_date", "nba_precompute.team_defense_zone_analysis")
    assert spec.upstreams == () and spec.needs_context is False and spec.bootstrap_skip is True
    assert [(i.table, i.window) for i in spec.inputs] == [(tdza.TDGS, "season_to_date"), (tdza.SCHEDULE, "season_to_date")]
    for inp in spec.inputs:
        assert set(inp.columns) <= set(table(inp.table).column_names)
    assert spec.wrapper == "backfill_jobs/precompute/team_defense_zone_analysis/team_defense_zone_analysis_precompute_backfill.py"


def test_rows_carry_every_contract_column_and_bookkeeping() -> None:
    result = run(two_team_inputs())
    assert list(result.rows.columns) == table(tdza.OUTPUT).column_names
    bos = row_of(result, "BOS")
    assert bos["processed_at"] == pd.Timestamp(RUN_TS) and bos["created_at"] == pd.Timestamp(RUN_TS)
    assert bos["processing_decision_reason"] == "processed_successfully"
    assert bos["season_boundary_detected"] == False  # noqa: E712
    assert bos["early_season_flag"] == False  # noqa: E712
    assert bos["insufficient_data_reason"] is None and bos["source_team_defense_hash"] is None
    assert bos["source_team_defense_last_updated"] == pd.Timestamp("2024-12-19T08:00:00Z")
    for col in ("last_reprocess_attempt_at", "reprocess_attempt_count", "circuit_breaker_active",
                "circuit_breaker_until", "manual_override_required", "backfill_bootstrap_mode"):  # fmt: skip
        assert bos[col] is None


def test_season_boundary_in_november() -> None:
    inputs = two_team_inputs()
    result = run(inputs, dt.date(2024, 11, 30))
    assert result.outcome == "COMPLETE"
    assert bool(row_of(result, "BOS")["season_boundary_detected"]) is True


# --- outcomes -------------------------------------------------------------------------------


def test_bootstrap_day() -> None:
    result = run(two_team_inputs(), OPENING + dt.timedelta(days=3))
    assert (result.outcome, result.reason, len(result.rows)) == ("SKIPPED_BOOTSTRAP", "bootstrap day 3 of season 2024", 0)


def test_failed_when_schedule_shows_enough_games_but_phase3_is_empty() -> None:
    inputs = two_team_inputs()
    inputs[tdza.TDGS] = []
    result = run(inputs)
    assert result.outcome == "FAILED"
    assert result.reason == "0/2 teams have 15 games although the schedule shows 15 final games for some team"
    assert {(s.entity_id, s.reason) for s in result.skipped} == {("BOS", "0 games, need 15"), ("NYK", "0 games, need 15")}
    assert len(result.rows) == 0


def test_no_inputs_at_all_is_expected_empty() -> None:
    result = tdza.compute(dt.date(2025, 1, 10), {}, RUN_TS)
    assert (result.outcome, result.reason, result.skipped) == ("EXPECTED_EMPTY", "0/0 teams have 15 games", [])


def test_non_final_and_preseason_schedule_rows_do_not_count_for_s() -> None:
    """Scheduled (status 1) games are not final: S stays 0, so the empty date is EXPECTED_EMPTY."""
    inputs = two_team_inputs()
    inputs[tdza.TDGS] = []
    inputs[tdza.SCHEDULE] = sched([(d, "BOS", "NYK") for d in game_dates(15)], status=1)
    result = run(inputs)
    assert (result.outcome, result.reason) == ("EXPECTED_EMPTY", "0/0 teams have 15 games")


def test_numeric_out_of_range_fails_the_whole_date() -> None:
    inputs = two_team_inputs()
    inputs[tdza.TDGS][0]["points_in_paint_allowed"] = 10_000_000  # BOS: > 9999.9 per game
    result = run(inputs)
    assert result.outcome == "FAILED" and len(result.rows) == 0
    assert "paint_points_allowed_per_game" in result.reason


# --- windows --------------------------------------------------------------------------------


def test_window_is_the_15_newest_deduplicated_games() -> None:
    dates = game_dates(17)
    rows = [defense("BOS", d, opp_paint_makes=0 if i < 2 else 20) for i, d in enumerate(dates)]
    # A re-processed duplicate of the newest game: the later processed_at wins.
    rows.append(defense("BOS", dates[-1], game_id="dup", opp_paint_makes=35, processed_at="2024-12-19T09:00:00Z"))
    # Same team and date, older processed_at: ignored.
    rows.append(defense("BOS", dates[-2], game_id="zzz", opp_paint_makes=0, processed_at="2024-12-18T09:00:00Z"))
    inputs = {tdza.TDGS: rows, tdza.SCHEDULE: sched([(d, "BOS", "NYK") for d in dates])}
    bos = row_of(run(inputs), "BOS")
    assert bos["games_in_sample"] == 15 and bos["source_team_defense_rows_found"] == 15
    assert bos["paint_pct_allowed_last_15"] == round((14 * 20 + 35) / 600, 3)
    assert bos["source_team_defense_last_updated"] == pd.Timestamp("2024-12-19T09:00:00Z")


def test_equal_processed_at_tie_goes_to_greatest_game_id() -> None:
    dates = game_dates(15)
    rows = [defense("BOS", d) for d in dates]
    rows.append(defense("BOS", dates[0], game_id="~last", opp_paint_makes=40))
    inputs = {tdza.TDGS: rows, tdza.SCHEDULE: sched([(d, "BOS", "NYK") for d in dates])}
    bos = row_of(run(inputs), "BOS")
    assert bos["games_in_sample"] == 15
    assert bos["paint_pct_allowed_last_15"] == round((14 * 20 + 40) / 600, 3)


def test_team_known_from_phase3_only_is_in_the_universe() -> None:
    inputs = two_team_inputs()
    inputs[tdza.TDGS].append(defense("LAL", game_dates(1)[0]))
    result = run(inputs)
    assert ("LAL", "insufficient_data", "1 games, need 15") in {(s.entity_id, s.category, s.reason) for s in result.skipped}
    assert result.entities_eligible == 3


# --- zone rules -----------------------------------------------------------------------------


def test_zone_labels_use_stored_values_and_tie_order() -> None:
    # 1.004 and 1.001 both store as 1.00: a tie, which goes to paint on both sides.
    assert tdza.zone_labels({"paint": 1.004, "mid_range": 1.001, "perimeter": None}) == ("paint", "paint")
    assert tdza.zone_labels({"paint": 2.0, "mid_range": -6.0, "perimeter": 2.0}) == ("mid_range", "paint")
    assert tdza.zone_labels({"paint": None, "mid_range": None, "perimeter": 0.5}) == ("perimeter", "perimeter")
    assert tdza.zone_labels({"paint": None, "mid_range": None, "perimeter": None}) == (None, None)
    # -1.005 stores as -1.01 (half away from zero), below -1.004 -> -1.00.
    assert tdza.zone_labels({"paint": -1.004, "mid_range": -1.005, "perimeter": 0.0}) == ("mid_range", "perimeter")


def test_quality_tier() -> None:
    assert [tdza.quality_tier(g) for g in (15, 14, 10, 9, 0)] == ["high", "medium", "medium", "low", "low"]


def test_all_zone_data_missing() -> None:
    inputs = two_team_inputs(opp_paint_attempts=None, opp_paint_makes=None, opp_mid_range_attempts=None,
                             opp_mid_range_makes=None, opp_three_pt_attempts=None, opp_three_pt_makes=None)  # fmt: skip
    bos = row_of(run(inputs), "BOS")
    assert bos["calculation_notes"] == (
        "No paint attempts; No mid-range attempts; No three-point attempts; 15 of 15 games missing zone data; "
        "League averages defaulted (0/10 teams qualified)"
    )
    assert bos["strongest_zone"] is None and bos["weakest_zone"] is None
    assert pd.isna(bos["paint_pct_allowed_last_15"]) and pd.isna(bos["three_pt_defense_vs_league_avg"])
    assert bos["paint_attempts_allowed_per_game"] == 0.0
    assert bos["data_quality_issues"] == ["missing_zone_data"]


def test_nulls_in_averaged_and_counted_columns() -> None:
    inputs = two_team_inputs()
    bos_rows = [r for r in inputs[tdza.TDGS] if r["defending_team_abbr"] == "BOS"]
    for r in bos_rows[:5]:
        r.update(defensive_rating=None, opponent_pace=None, points_allowed=None, blocks_paint=None)
    bos = row_of(run(inputs), "BOS")
    assert bos["defensive_rating_last_15"] == 110.0 and bos["opponent_pace"] == 100.0
    assert bos["opponent_points_per_game"] == round(10 * 110 / 15, 1)  # NULL counts as 0
    assert bos["paint_blocks_per_game"] == round(10 * 2 / 15, 1)


# --- league averages ------------------------------------------------------------------------


def league_hist(day: dt.date, teams: int, games: int, first_offset: int = 1, **values: Any) -> pd.DataFrame:
    """A normalized history frame: `teams` teams with `games` games each ending on D - first_offset."""
    rows = [
        defense(f"T{t:02d}", day - dt.timedelta(days=first_offset + g), **values)
        for t in range(teams)
        for g in range(games)
    ]
    df = pd.DataFrame(rows)
    df["game_date"] = pd.to_datetime(df["game_date"])
    return df


def test_league_averages_need_ten_qualified_teams() -> None:
    avgs, note = tdza.league_averages(league_hist(D, 9, 10), D)
    assert avgs == {"paint": 0.58, "mid_range": 0.41, "perimeter": 0.355}
    assert note == "League averages defaulted (9/10 teams qualified)"
    avgs, note = tdza.league_averages(league_hist(D, 10, 10), D)
    assert note is None
    assert avgs == pytest.approx({"paint": 0.5, "mid_range": 0.4, "perimeter": 0.35}, abs=1e-12)


def test_league_window_is_d_minus_30_to_d_minus_1() -> None:
    # Games on D-30..D-21 count (10 games); shifting one day back leaves only 9 in the window.
    avgs, note = tdza.league_averages(league_hist(D, 10, 10, first_offset=21), D)
    assert note is None
    avgs, note = tdza.league_averages(league_hist(D, 10, 10, first_offset=22), D)
    assert note == "League averages defaulted (0/10 teams qualified)"


def test_league_averages_skip_teams_without_attempts_in_a_zone() -> None:
    hist = league_hist(D, 10, 10)
    hist.loc[hist["defending_team_abbr"] == "T00", "opp_three_pt_attempts"] = 0
    _, note = tdza.league_averages(hist, D)
    assert note == "League averages defaulted (9/10 teams qualified)"


def test_league_average_is_an_unweighted_mean() -> None:
    hist = league_hist(D, 10, 10)
    # T00 allows 30/40 in the paint on 10x the attempts: unweighted, it weighs like any other team.
    mask = hist["defending_team_abbr"] == "T00"
    hist.loc[mask, "opp_paint_makes"] = 300
    hist.loc[mask, "opp_paint_attempts"] = 400
    avgs, _ = tdza.league_averages(hist, D)
    assert avgs["paint"] == pytest.approx((0.75 + 9 * 0.5) / 10, abs=1e-12)


# --- completeness ---------------------------------------------------------------------------


def test_completeness_counts_the_last_15_scheduled_games() -> None:
    dates = game_dates(20)
    rows = [defense("BOS", d) for d in dates if d not in dates[-3:-1]]  # 2 of the last 15 missing
    inputs = {tdza.TDGS: rows, tdza.SCHEDULE: sched([(d, "BOS", "NYK") for d in dates])}
    result = run(inputs)
    bos = row_of(result, "BOS")
    assert (bos["expected_games_count"], bos["actual_games_count"], bos["missing_games_count"]) == (15, 13, 2)
    assert bos["completeness_percentage"] == 86.7 and bos["source_team_defense_completeness_pct"] == 86.7
    assert bos["is_production_ready"] == False  # noqa: E712
    assert bos["data_quality_issues"] == ["own_data_incomplete"]
    assert bos["games_in_sample"] == 15
    assert ("NYK", "insufficient_data", "0 games, need 15") in {(s.entity_id, s.category, s.reason) for s in result.skipped}
