"""player_composite_factors: every spec vector, plus the rules the vectors do not pin down."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from data_processors.precompute.player_composite_factors import factors as f
from data_processors.precompute.player_composite_factors.player_composite_factors_processor import SPEC, compute
from nba_backfill.tables import table
from nba_backfill.values import hash_values
from nba_backfill.vectors import compare, load_examples, run_example

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "phase4_examples.json"
EXAMPLES = load_examples(VECTORS, "player_composite_factors")
OUT = table("nba_precompute.player_composite_factors")
CTX = "nba_analytics.upcoming_player_game_context"
SHOT = "nba_precompute.player_shot_zone_analysis"
DEF = "nba_precompute.team_defense_zone_analysis"
PGS = "nba_analytics.player_game_summary"
SCHED = "nba_raw.nbac_schedule"
D = dt.date(2025, 1, 15)
RUN_TS = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["description"][:60] for e in EXAMPLES])
def test_spec_vector(example: dict[str, Any]) -> None:
    problems = compare(example, run_example(example))
    assert not problems, f"{example['description']}\n" + "\n".join(problems)


# --- hand-built inputs ---------------------------------------------------------------------------


def game(day: dt.date, home: str, away: str, status: int = 3, regular: bool | None = True, playoffs: bool | None = False) -> dict:
    return {
        "game_id": f"{day:%Y%m%d}_{away}_{home}", "game_date": day.isoformat(), "season_year": 2024,
        "home_team_tricode": home, "away_team_tricode": away, "game_status": status,
        "is_regular_season": regular, "is_playoffs": playoffs,
    }


def schedule(*extra: dict) -> list[dict]:
    """Opening night 2024-10-22 plus LAL vs GSW on the 10 days before D and on D."""
    rows = [game(dt.date(2024, 10, 22), "BOS", "NYK")]
    rows += [game(D - dt.timedelta(days=k), "LAL", "GSW") for k in range(1, 11)]
    rows.append(game(D, "LAL", "GSW", status=1))
    return rows + list(extra)


def context(player: str = "p1", **values: Any) -> dict:
    row = {
        "player_lookup": player, "universal_player_id": f"{player}_001", "game_id": "20250115_GSW_LAL",
        "game_date": D.isoformat(), "team_abbr": "LAL", "opponent_team_abbr": "GSW", "is_production_ready": True,
        "days_rest": 1, "back_to_back": False, "games_in_last_7_days": 3, "minutes_in_last_7_days": 200,
        "avg_minutes_per_game_last_7": 30.0, "back_to_backs_last_14_days": 0, "player_age": 25,
        "projected_usage_rate": 25.0, "avg_usage_rate_last_7_games": 25.0, "star_teammates_out": 0,
        "pace_differential": 0.0, "opponent_pace_last_10": 100.0, "processed_at": "2025-01-15T08:00:00Z",
    }
    return row | values


def shot(player: str = "p1", **values: Any) -> dict:
    row = {
        "player_lookup": player, "analysis_date": D.isoformat(), "primary_scoring_zone": "paint",
        "paint_rate_last_10": 50.0, "mid_range_rate_last_10": 25.0, "three_pt_rate_last_10": 25.0,
        "is_production_ready": True, "data_hash": f"shot_{player}", "processed_at": "2025-01-15T09:00:00Z",
    }
    return row | values


def defense(team: str = "GSW", **values: Any) -> dict:
    row = {
        "team_abbr": team, "analysis_date": D.isoformat(), "paint_defense_vs_league_avg": 0.0,
        "mid_range_defense_vs_league_avg": 0.0, "three_pt_defense_vs_league_avg": 0.0, "weakest_zone": "paint",
        "is_production_ready": True, "data_hash": f"def_{team}", "processed_at": "2025-01-15T09:30:00Z",
    }
    return row | values


def history(player: str = "p1", days: range = range(1, 11), team: str = "LAL", **values: Any) -> list[dict]:
    return [
        {
            "player_lookup": player, "game_id": f"g{k}", "game_date": (D - dt.timedelta(days=k)).isoformat(),
            "season_year": 2024, "team_abbr": team, "universal_player_id": f"{player}_001",
            "processed_at": "2025-01-01T00:00:00Z",
        }
        | values
        for k in days
    ]


def run(ctx: list[dict], shots: list[dict] | None = None, defs: list[dict] | None = None,
        pgs: list[dict] | None = None, sched: list[dict] | None = None, day: dt.date = D):
    inputs = {
        CTX: ctx,
        SHOT: shots if shots is not None else [shot(c["player_lookup"]) for c in ctx],
        DEF: defs if defs is not None else [defense()],
        PGS: pgs if pgs is not None else [r for c in ctx for r in history(c["player_lookup"])],
        SCHED: sched if sched is not None else schedule(),
    }
    return compute(day, inputs, RUN_TS)


def one_row(**kwargs: Any) -> dict:
    result = run(**kwargs)
    assert result.outcome == "COMPLETE", result.reason
    assert len(result.rows) == 1
    return result.rows.iloc[0].to_dict()


# --- factor formulas -----------------------------------------------------------------------------


def used_inputs(**values: Any) -> pd.DataFrame:
    return f.factor_inputs(pd.DataFrame([context(**values)]).pipe(_typed))


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    from nba_backfill.frames import normalize_frame

    return normalize_frame(df, table(CTX))


@pytest.mark.parametrize(
    ("values", "score"),
    [
        ({"days_rest": 3}, 100),  # a lone +5 bonus on 100 stays 100
        ({"days_rest": 3, "player_age": 30}, 100),  # +5 and -5 together
        ({"days_rest": 4, "back_to_back": True}, 85),  # no bonus on a back-to-back
        ({"minutes_in_last_7_days": 241}, 90),
        ({"avg_minutes_per_game_last_7": 35.05}, 92),
        ({"back_to_backs_last_14_days": 1, "player_age": 34}, 90),
        ({"back_to_backs_last_14_days": 3, "player_age": 40, "games_in_last_7_days": 5}, 68),
        ({"back_to_back": None, "days_rest": None, "player_age": None}, 100),
    ],
)
def test_fatigue_score_steps_and_clamp(values: dict, score: int) -> None:
    penalties, bonus = f.fatigue_flags(used_inputs(**values))
    assert f.fatigue_score(penalties, bonus).tolist() == [score]


def test_zone_mismatch_boost_is_strictly_above_five_and_absent_rows_score_zero() -> None:
    usage = pd.Series([50.0, 100.0, 50.0, 25.0, 80.0])
    dv = pd.Series([5.0, -6.0, 9.0, 4.0, -20.0])
    present = pd.Series([True, True, False, True, True])
    out = f.zone_mismatch(usage, dv, present).tolist()
    assert out[0] == 5.0  # |m| = 5.0 is not boosted
    assert out[1] == pytest.approx(-7.2)
    assert out[2] == 0.0
    assert out[3] == 2.0  # weight 0.5
    assert out[4] == -10.0  # clamped


def test_zone_used_maps_unknown_zones_to_paint() -> None:
    zones = f.zone_used(pd.Series(["perimeter", "mid_range", "balanced", None, "corner"], dtype="object"))
    assert zones.tolist() == ["perimeter", "mid_range", "paint", "paint", "paint"]


def test_usage_spike_boosts_only_positive_spikes_and_clamps() -> None:
    p = pd.Series([30.0, 20.0, 40.0, 26.0, 30.0])
    b = pd.Series([25.0, 25.0, 20.0, 0.0, 25.0])
    n = pd.Series([2.0, 2.0, 0.0, 1.0, 0.0])
    out = f.usage_spike(p, b, n).tolist()
    assert out[0] == pytest.approx(5 * 0.3 * 1.30)
    assert out[1] == pytest.approx(-1.5)  # no boost on a drop
    assert out[2] == 3.0  # clamp
    assert out[3] == 0.0  # b = 0
    assert out[4] == pytest.approx(1.5)


def test_pace_score_clamps() -> None:
    assert f.pace_score(pd.Series([7.0, -6.5, 1.0])).tolist() == [3.0, -3.0, 0.5]


def test_json_numbers_are_rounded_to_four_decimals_and_integers_stay_integers() -> None:
    text = f.pace_json(1.234567, 99.99995, 0.6)
    assert text == '{"pace_differential":1.2346,"opponent_pace_last_10":100.0,"league_avg_pace":100.0,"pace_environment":"normal","final_score":0.6}'
    usage = json.loads(f.usage_json(22.0, 25.0, 3.0, -0.9))
    assert usage["star_teammates_out"] == 3 and isinstance(usage["star_teammates_out"], int)
    assert usage["usage_trend"] == "drop"


def test_shot_zone_json_when_both_rows_are_missing() -> None:
    text = f.shot_zone_json(False, False, None, "paint", 50.0, None, 0.0, 0.0)
    assert text == '{"missing_data":true,"player_shot_zone_found":false,"opponent_defense_found":false}'


# --- processor rules -----------------------------------------------------------------------------


def test_no_context_with_games_on_the_schedule_fails_with_the_game_count() -> None:
    sched = schedule(game(D, "BOS", "NYK", status=1), game(D, "BOS", "NYK", status=1))  # duplicate pair counts once
    result = run([], sched=sched)
    assert result.outcome == "FAILED"
    assert result.reason == (
        "no upcoming_player_game_context rows for 2025-01-15 although the schedule lists 2 game(s) on that date"
    )
    assert result.rows.empty


def test_no_context_and_only_an_all_star_game_on_d_is_expected_empty() -> None:
    sched = [game(dt.date(2024, 10, 22), "BOS", "NYK"), game(D, "EST", "WST", regular=False, playoffs=None)]
    result = run([], sched=sched)
    assert (result.outcome, result.reason) == ("EXPECTED_EMPTY", "no games on 2025-01-15")


def test_bootstrap_day_is_skipped() -> None:
    day = dt.date(2024, 10, 25)
    result = run([context(game_date=day.isoformat())], sched=[game(dt.date(2024, 10, 22), "BOS", "NYK")], day=day)
    assert (result.outcome, result.reason) == ("SKIPPED_BOOTSTRAP", "bootstrap day 3 of season 2024")
    assert result.rows.empty


def test_every_contract_column_is_present_in_order_and_bookkeeping_is_filled() -> None:
    result = run([context("p1"), context("p2")])
    assert list(result.rows.columns) == OUT.column_names
    row = result.rows.iloc[0]
    assert row["processed_at"] == pd.Timestamp(RUN_TS) and row["created_at"] == pd.Timestamp(RUN_TS)
    assert row["calculation_version"] == "v1_4factors"
    assert row["processing_decision_reason"] == "processed_successfully"
    for flag in ("season_boundary_detected", "early_season_flag"):
        assert row[flag] is not None and not row[flag]


def test_context_rows_are_deduplicated_and_other_dates_ignored() -> None:
    old = context("p1", game_id="20250115_A", days_rest=0, processed_at="2025-01-15T07:00:00Z")
    new = context("p1", game_id="20250115_B", days_rest=5, processed_at="2025-01-15T10:00:00Z")
    other_day = context("p9", game_date="2025-01-14")
    result = run([old, new, other_day], shots=[shot("p1")])
    assert result.rows["player_lookup"].tolist() == ["p1"]
    row = result.rows.iloc[0]
    assert row["game_id"] == "20250115_B"
    assert json.loads(row["fatigue_context_json"])["days_rest"] == 5


def test_duplicate_phase4_rows_use_greatest_processed_at() -> None:
    stale = shot("p1", primary_scoring_zone="paint", data_hash="old", processed_at="2025-01-15T01:00:00Z")
    fresh = shot("p1", primary_scoring_zone="perimeter", three_pt_rate_last_10=60.0, data_hash="new")
    defs = [defense(three_pt_defense_vs_league_avg=3.0), defense(data_hash="older", processed_at=None)]
    row = one_row(ctx=[context()], shots=[stale, fresh], defs=defs)
    assert row["source_player_shot_hash"] == "new"
    assert row["source_team_defense_hash"] == "def_GSW"
    assert row["shot_zone_mismatch_score"] == 3.0
    assert json.loads(row["shot_zone_context_json"])["zone_used"] == "perimeter"


def test_absent_upstream_rows_take_the_missing_path() -> None:
    row = one_row(ctx=[context()], shots=[], defs=[defense("BOS")])
    assert row["shot_zone_mismatch_score"] == 0.0
    assert json.loads(row["shot_zone_context_json"]) == {
        "missing_data": True, "player_shot_zone_found": False, "opponent_defense_found": False,
    }
    assert row["data_completeness_pct"] == 60.0
    assert row["missing_data_fields"] == "player_shot_zone, team_defense_zone"
    assert row["data_quality_issues"] == ["upstream_player_shot_zone_missing", "upstream_team_defense_zone_missing"]
    assert bool(row["is_production_ready"]) is False
    for name in ("player_shot", "team_defense"):
        assert pd.isna(row[f"source_{name}_last_updated"])
        assert row[f"source_{name}_rows_found"] == 0
        assert row[f"source_{name}_completeness_pct"] == 0.0
        assert row[f"source_{name}_hash"] is None


def test_source_tracking_of_present_rows() -> None:
    row = one_row(ctx=[context()])
    assert row["source_player_context_last_updated"] == pd.Timestamp("2025-01-15T08:00:00Z")
    assert row["source_player_context_rows_found"] == 1 and row["source_player_context_completeness_pct"] == 100.0
    assert row["source_player_shot_last_updated"] == pd.Timestamp("2025-01-15T09:00:00Z")
    assert row["source_team_defense_last_updated"] == pd.Timestamp("2025-01-15T09:30:00Z")
    assert row["source_player_shot_hash"] == "shot_p1" and row["source_team_defense_hash"] == "def_GSW"
    assert pd.isna(row["source_team_context_last_updated"]) and pd.isna(row["source_team_context_rows_found"])
    assert row["source_player_context_hash"] is None and row["source_team_context_hash"] is None


def test_upstream_incomplete_rows_are_flagged_in_order() -> None:
    row = one_row(
        ctx=[context(is_production_ready=False)],
        shots=[shot(is_production_ready=None)],
        defs=[defense(is_production_ready=False)],
        pgs=history(days=range(1, 6)),
    )
    assert row["completeness_percentage"] == 50.0
    assert row["data_quality_issues"] == [
        "own_data_incomplete",
        "upstream_player_context_incomplete",
        "upstream_player_shot_zone_incomplete",
        "upstream_team_defense_zone_incomplete",
    ]


def test_universal_id_falls_back_to_newest_non_null_history_value() -> None:
    pgs = history(days=range(1, 3), universal_player_id=None) + history(days=range(3, 5), universal_player_id="from_hist")
    pgs += history(days=range(5, 11), universal_player_id="older")
    row = one_row(ctx=[context(universal_player_id=None)], pgs=pgs)
    assert row["universal_player_id"] == "from_hist"


def test_completeness_team_is_newest_history_team_or_context_team() -> None:
    # Traded player: newest history row is with GSW; GSW played the same 10 dates, and the rows exist.
    pgs = history(days=range(1, 3), team="GSW") + history(days=range(3, 11), team="LAL")
    row = one_row(ctx=[context()], pgs=pgs)
    assert (row["expected_games_count"], row["actual_games_count"]) == (10, 10)
    # No history: the context team's last 10 final games, none present.
    row = one_row(ctx=[context()], pgs=[])
    assert (row["expected_games_count"], row["actual_games_count"], row["missing_games_count"]) == (10, 0, 10)
    assert row["completeness_percentage"] == 0.0
    assert row["data_quality_issues"][0] == "own_data_incomplete"


def test_history_is_leak_free_and_same_season() -> None:
    pgs = history(days=range(1, 10))
    pgs.append({**history(days=range(1, 2))[0], "game_id": "today", "game_date": D.isoformat()})
    pgs.append({**history(days=range(1, 2))[0], "game_id": "last", "game_date": "2024-04-01", "season_year": 2023})
    row = one_row(ctx=[context(universal_player_id=None)], pgs=pgs)
    assert (row["expected_games_count"], row["actual_games_count"]) == (10, 9)


def test_warnings_in_order_and_extreme_adjustment() -> None:
    ctx = context(
        pace_differential=8.0, projected_usage_rate=40.0, star_teammates_out=2,
        back_to_back=True, games_in_last_7_days=5, minutes_in_last_7_days=300,
        avg_minutes_per_game_last_7=38.0, back_to_backs_last_14_days=3, player_age=36,
    )
    row = one_row(ctx=[ctx], shots=[shot(paint_rate_last_10=90.0)], defs=[defense(paint_defense_vs_league_avg=12.0)])
    assert row["fatigue_score"] == 35
    assert row["total_composite_adjustment"] == pytest.approx(-3.25 + 10.0 + 3.0 + 3.0)
    assert bool(row["has_warnings"]) is True
    assert row["warning_details"] == (
        "EXTREME_FATIGUE: Player showing severe fatigue; EXTREME_MATCHUP: Unusual zone mismatch; "
        "EXTREME_ADJUSTMENT: Very large composite adjustment"
    )
    usage_only = context(pace_differential=8.0, projected_usage_rate=40.0, player_age=36, back_to_back=True)
    row = one_row(ctx=[usage_only], shots=[shot(paint_rate_last_10=90.0)], defs=[defense(paint_defense_vs_league_avg=4.0)])
    assert row["fatigue_score"] == 75 and row["total_composite_adjustment"] == pytest.approx(-1.25 + 4.0 + 3.0 + 3.0)
    assert row["has_warnings"] is not None and not row["has_warnings"] and row["warning_details"] is None
    calm = context(pace_differential=8.0, projected_usage_rate=40.0)
    row = one_row(ctx=[calm], shots=[shot(paint_rate_last_10=90.0)], defs=[defense(paint_defense_vs_league_avg=12.0)])
    assert row["total_composite_adjustment"] == 16.0
    assert row["warning_details"] == (
        "EXTREME_MATCHUP: Unusual zone mismatch; EXTREME_ADJUSTMENT: Very large composite adjustment"
    )


def test_data_hash_is_recomputable_from_the_stored_row() -> None:
    row = one_row(ctx=[context(pace_differential=3.5)])
    fields = (
        "player_lookup", "universal_player_id", "game_date", "game_id", "analysis_date", "fatigue_score",
        "shot_zone_mismatch_score", "pace_score", "usage_spike_score", "referee_favorability_score",
        "look_ahead_pressure_score", "travel_impact_score", "opponent_strength_score",
        "total_composite_adjustment", "calculation_version", "early_season_flag", "insufficient_data_reason",
        "data_completeness_pct", "missing_data_fields", "has_warnings", "warning_details",
    )
    assert row["pace_score"] == 1.8 and row["total_composite_adjustment"] == 1.75
    expected = hash_values([row[c] for c in fields], [OUT.column(c).type for c in fields])
    assert row["data_hash"] == expected


def test_typed_frames_give_the_same_rows_as_json_rows() -> None:
    ctx, shots, defs, pgs, sched = [context()], [shot()], [defense()], history(), schedule()
    from_json = run(ctx, shots, defs, pgs, sched).rows
    frames = {k: pd.DataFrame(v) for k, v in {CTX: ctx, SHOT: shots, DEF: defs, PGS: pgs, SCHED: sched}.items()}
    for frame in frames.values():
        for col in ("game_date", "analysis_date"):
            if col in frame:
                frame[col] = pd.to_datetime(frame[col])
    typed = compute(D, frames, RUN_TS).rows
    pd.testing.assert_frame_equal(from_json, typed)


def test_null_required_game_id_fails_the_whole_date() -> None:
    result = run([context("p1"), context("p2", game_id=None)])
    assert result.outcome == "FAILED"
    assert "game_id" in result.reason
    assert result.rows.empty


def test_infinite_factor_input_fails_the_date() -> None:
    result = run([context(pace_differential=float("inf"))])
    assert result.outcome == "FAILED"
    assert "pace_differential" in result.reason


def test_no_nan_in_computed_columns_with_all_nulls() -> None:
    nulls = {column: None for column, _ in f.CONTEXT_DEFAULTS.values()}
    row = one_row(ctx=[context(**nulls, back_to_back=None, is_production_ready=None)])
    for col in ("fatigue_score", "shot_zone_mismatch_score", "pace_score", "usage_spike_score", "total_composite_adjustment"):
        assert not np.isnan(float(row[col]))
    assert json.loads(row["usage_context_json"])["projected_usage_rate"] == 25.0


def test_spec_declaration() -> None:
    assert SPEC.name == "player_composite_factors" and SPEC.phase == 4
    assert SPEC.output_table == "nba_precompute.player_composite_factors" and SPEC.date_column == "game_date"
    assert SPEC.upstreams == ("team_defense_zone_analysis", "player_shot_zone_analysis")
    assert SPEC.needs_context is True
    windows = {i.table: i.window for i in SPEC.inputs}
    assert windows == {CTX: "same_date", DEF: "same_date", SHOT: "same_date", PGS: "season_to_date", SCHED: "season_to_date"}
    for spec_input in SPEC.inputs:
        assert spec_input.columns is not None
        for column in spec_input.columns:
            table(spec_input.table).column(column)
