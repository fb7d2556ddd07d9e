"""ml_feature_store: the spec's worked examples plus hand-built cases for the rules they leave open."""
from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from data_processors.precompute.ml_feature_store import ml_feature_store_processor as mlfs
from data_processors.precompute.ml_feature_store.features import (
    CALCULATED,
    DEFAULT,
    FEATURE_NAMES,
    PHASE3,
    PHASE4,
    compute_features,
    quality_and_source,
)
from nba_backfill.tables import table
from nba_backfill.vectors import compare, load_examples, run_example

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "phase4_examples.json"
EXAMPLES = load_examples(VECTORS, "ml_feature_store")
RUN_TS = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
D = dt.date(2025, 1, 15)
IDX = {name: i for i, name in enumerate(FEATURE_NAMES)}


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["description"][:60] for e in EXAMPLES])
def test_worked_example(example: dict[str, Any]) -> None:
    problems = compare(example, run_example(example))
    assert not problems, example["description"] + "\n" + "\n".join(problems)


def test_there_are_four_examples() -> None:
    assert len(EXAMPLES) == 4


# ---------------------------------------------------------------- builders


def schedule(n_games: int = 10, team: str = "BOS", day: dt.date = D, extra: list[dict] | None = None) -> list[dict]:
    """Opening night 2024-10-22 plus n final games of `team` every other day before `day`."""
    rows = [dict(game_id="open", game_date="2024-10-22", season_year=2024, home_team_tricode="OKC",
                 away_team_tricode="HOU", game_status=3, is_regular_season=True, is_playoffs=False)]
    for k in range(n_games):
        d = day - dt.timedelta(days=2 * (k + 1))
        rows.append(dict(game_id=f"g{k}", game_date=d.isoformat(), season_year=2024, home_team_tricode=team,
                         away_team_tricode="ZZZ", game_status=3, is_regular_season=True, is_playoffs=False))
    return rows + (extra or [])


def games(points: list[float | None], player: str = "p1", team: str = "BOS", day: dt.date = D, **cols: list) -> list[dict]:
    """player_game_summary rows, newest first, every other day before `day` (30 minutes, active)."""
    rows = []
    for k, pts in enumerate(points):
        row = dict(player_lookup=player, game_id=f"g{k}", game_date=(day - dt.timedelta(days=2 * (k + 1))).isoformat(),
                   season_year=2024, team_abbr=team, points=pts, ft_makes=2, minutes_played=30.0, is_active=True,
                   universal_player_id=None)
        for name, values in cols.items():
            row[name] = values[k]
        rows.append(row)
    return rows


def context(player: str = "p1", **overrides: Any) -> dict:
    row = dict(player_lookup=player, universal_player_id=f"{player}_001", game_id="20250115_NYK_BOS",
               game_date=D.isoformat(), team_abbr="BOS", opponent_team_abbr="NYK", home_game=True,
               back_to_back=False, season_phase="mid", days_rest=1, opponent_days_rest=1,
               player_status="available", is_production_ready=True)
    row.update(overrides)
    return row


def run(day: dt.date = D, **tables: list[dict]) -> Any:
    names = {"ctx": mlfs.CONTEXT, "pgs": mlfs.PGS, "sched": mlfs.SCHEDULE, "toff": mlfs.TEAM_OFFENSE,
             "dc": mlfs.DAILY_CACHE, "cf": mlfs.COMPOSITE, "sz": mlfs.SHOT_ZONE, "td": mlfs.TEAM_DEFENSE}
    inputs = {names[k]: v for k, v in tables.items()}
    inputs.setdefault(mlfs.SCHEDULE, schedule())
    return mlfs.compute(day, inputs, RUN_TS)


def one_row(result: Any) -> dict:
    assert result.outcome == "COMPLETE", result.reason
    assert len(result.rows) == 1
    return result.rows.iloc[0].to_dict()


def feature(row: dict, name: str) -> float:
    return row["features"][IDX[name]]


# ---------------------------------------------------------------- outcomes


def test_no_context_and_no_game_is_expected_empty() -> None:
    preseason = [dict(game_id="pre", game_date=D.isoformat(), season_year=2024, home_team_tricode="BOS",
                      away_team_tricode="NYK", game_status=1, is_regular_season=False, is_playoffs=False)]
    result = run(sched=schedule(extra=preseason), ctx=[context(game_date="2025-01-14")])
    assert (result.outcome, result.reason, len(result.rows)) == ("EXPECTED_EMPTY", "no games on 2025-01-15", 0)


def test_no_context_with_scheduled_games_fails_counting_distinct_pairs() -> None:
    today = [dict(game_id=gid, game_date=D.isoformat(), season_year=2024, home_team_tricode=h,
                  away_team_tricode=a, game_status=s, is_regular_season=rs, is_playoffs=None)
             for gid, h, a, s, rs in [("a", "BOS", "NYK", 1, True), ("a", "BOS", "NYK", 3, True), ("b", "LAL", "DEN", 1, True)]]
    result = run(sched=schedule(extra=today), ctx=[])
    assert result.outcome == "FAILED"
    assert result.reason == ("no upcoming_player_game_context rows for 2025-01-15 although the schedule lists "
                             "2 game(s) on that date")
    assert result.rows.empty


def test_bootstrap_day_produces_nothing() -> None:
    result = run(day=dt.date(2024, 10, 28), ctx=[context(game_date="2024-10-28")], sched=schedule(0, day=dt.date(2024, 10, 28)))
    assert (result.outcome, result.reason, len(result.rows)) == ("SKIPPED_BOOTSTRAP", "bootstrap day 6 of season 2024", 0)


def test_day_seven_is_not_bootstrap() -> None:
    day = dt.date(2024, 10, 29)
    result = run(day=day, ctx=[context(game_date=day.isoformat())], sched=schedule(0, day=day))
    assert result.outcome == "COMPLETE" and len(result.rows) == 1


def test_null_required_column_fails_the_whole_date() -> None:
    result = run(ctx=[context("p1"), context("p2", game_id=None)])
    assert result.outcome == "FAILED" and "game_id" in result.reason and result.rows.empty


def test_infinite_phase4_value_fails_the_whole_date() -> None:
    dc = [dict(player_lookup="p1", cache_date=D.isoformat(), points_avg_last_5=float("inf"))]
    result = run(ctx=[context()], dc=dc)
    assert result.outcome == "FAILED" and result.rows.empty


# ---------------------------------------------------------------- context and upstream rows


def test_context_is_deduplicated_and_other_dates_ignored() -> None:
    ctx = [context(game_id="old", processed_at="2025-01-15T01:00:00Z"),
           context(game_id="new", processed_at="2025-01-15T02:00:00Z"),
           context("p2", game_date="2025-01-14")]
    row = one_row(run(ctx=ctx))
    assert row["game_id"] == "new" and row["player_lookup"] == "p1"


def test_phase4_duplicates_use_latest_processed_at_and_only_date_d() -> None:
    dc = [dict(player_lookup="p1", cache_date=D.isoformat(), points_avg_last_5=11.0, processed_at="2025-01-15T01:00:00Z", data_hash="old"),
          dict(player_lookup="p1", cache_date=D.isoformat(), points_avg_last_5=12.0, processed_at="2025-01-15T03:00:00Z", data_hash="new"),
          dict(player_lookup="p1", cache_date="2025-01-14", points_avg_last_5=13.0, processed_at="2025-01-15T09:00:00Z")]
    td = [dict(team_abbr="NYK", analysis_date="2025-01-14", defensive_rating_last_15=99.0)]
    row = one_row(run(ctx=[context()], dc=dc, td=td))
    assert feature(row, "points_avg_last_5") == 12.0
    assert row["source_daily_cache_hash"] == "new" and row["source_daily_cache_rows_found"] == 1
    assert row["source_daily_cache_last_updated"] == pd.Timestamp("2025-01-15T03:00:00Z")
    assert feature(row, "opponent_def_rating") == 112.0 and row["source_team_defense_rows_found"] == 0
    assert row["source_team_defense_completeness_pct"] == 0.0 and row["source_team_defense_hash"] is None


def test_opponent_row_is_matched_by_context_opponent() -> None:
    td = [dict(team_abbr="NYK", analysis_date=D.isoformat(), defensive_rating_last_15=108.25, opponent_pace=97.5,
               is_production_ready=True, data_hash="nyk"),
          dict(team_abbr="BOS", analysis_date=D.isoformat(), defensive_rating_last_15=120.0, opponent_pace=90.0)]
    row = one_row(run(ctx=[context()], td=td))
    assert feature(row, "opponent_def_rating") == 108.25 and feature(row, "opponent_pace") == 97.5
    assert row["source_team_defense_hash"] == "nyk"


def test_shot_zone_rates_are_divided_by_100_unrounded() -> None:
    sz = [dict(player_lookup="p1", analysis_date=D.isoformat(), paint_rate_last_10=44.44, mid_range_rate_last_10=None,
               three_pt_rate_last_10=12.5)]
    row = one_row(run(ctx=[context()], sz=sz))
    assert feature(row, "pct_paint") == 44.44 / 100
    assert feature(row, "pct_mid_range") == 0.2 and feature(row, "pct_three") == 0.125


def test_readiness_and_issue_codes() -> None:
    ready = dict(is_production_ready=True)
    dc = [dict(player_lookup="p1", cache_date=D.isoformat(), **ready)]
    cf = [dict(player_lookup="p1", game_date=D.isoformat(), is_production_ready=None)]
    sz = [dict(player_lookup="p1", analysis_date=D.isoformat(), **ready)]
    td = [dict(team_abbr="NYK", analysis_date=D.isoformat(), **ready)]
    result = run(ctx=[context()], pgs=games([20.0] * 10), dc=dc, cf=cf, sz=sz, td=td)
    row = one_row(result)
    assert row["data_quality_issues"] == ["upstream_player_composite_factors_incomplete"]
    assert row["is_production_ready"] is False or not row["is_production_ready"]
    cf[0]["is_production_ready"] = True
    row = one_row(run(ctx=[context()], pgs=games([20.0] * 10), dc=dc, cf=cf, sz=sz, td=td))
    assert row["data_quality_issues"] == [] and bool(row["is_production_ready"])
    assert row["completeness_percentage"] == 100.0 and row["expected_games_count"] == 10


# ---------------------------------------------------------------- history and Phase 3 fallbacks


def test_phase3_fallbacks_use_only_active_in_season_games_before_d() -> None:
    pts = [30.0, None, 10.0, 20.0, 40.0, 50.0, 0.0]
    hist = games(pts, minutes_played=[30.0, 30.0, 30.0, 0.0, 30.0, 30.0, 30.0],
                 is_active=[True, True, True, True, None, True, True])
    hist += [dict(player_lookup="p1", game_id="today", game_date=D.isoformat(), season_year=2024, team_abbr="BOS",
                  points=99.0, minutes_played=30.0, is_active=True),
             dict(player_lookup="p1", game_id="last", game_date="2024-04-01", season_year=2023, team_abbr="BOS",
                  points=99.0, minutes_played=30.0, is_active=True)]
    row = one_row(run(ctx=[context()], pgs=hist))
    # Active games: 30, NULL, 10, 50, 0 -> 5 games, 4 non-NULL points.
    assert feature(row, "points_avg_last_5") == pytest.approx(90.0 / 4)
    assert feature(row, "points_avg_last_10") == pytest.approx(90.0 / 4)
    assert feature(row, "points_avg_season") == pytest.approx(90.0 / 4)


def test_last5_fallback_needs_five_active_games() -> None:
    row = one_row(run(ctx=[context()], pgs=games([10.0, 20.0, 30.0, 40.0])))
    assert feature(row, "points_avg_last_5") == 10.0  # default, not the 4-game mean
    assert feature(row, "points_avg_last_10") == 25.0 and feature(row, "points_avg_season") == 25.0
    # phase3: last_10, season, 3 context flags; calculated: rest, injury, minutes_change; 17 defaults.
    assert row["feature_quality_score"] == pytest.approx((5 * 75 + 3 * 100 + 17 * 40) / 25)


def test_duplicate_history_rows_count_once() -> None:
    hist = games([10.0, 10.0, 10.0, 10.0, 10.0])
    dup = dict(hist[0], game_id="g0b", points=40.0, processed_at="2025-01-14T00:00:00Z")
    row = one_row(run(ctx=[context()], pgs=hist + [dup]))
    assert feature(row, "points_avg_last_5") == pytest.approx(80.0 / 5)


def test_recent_trend_sign_and_thresholds() -> None:
    cases = {(12.0, 10.0): 1.0, (11.9, 10.0): 0.0, (15.0, 10.0): 2.0, (8.0, 10.0): -1.0, (5.0, 10.0): -2.0}
    for (newer, older), want in cases.items():
        row = one_row(run(ctx=[context()], pgs=games([newer] * 3 + [older] * 2 + [0.0] * 5)))
        assert feature(row, "recent_trend") == want, (newer, older)


def test_recent_trend_uses_non_null_points_and_needs_defined_means() -> None:
    row = one_row(run(ctx=[context()], pgs=games([None, 30.0, None, 20.0, None])))
    assert feature(row, "recent_trend") == 2.0  # A = 30, B = 20
    row = one_row(run(ctx=[context()], pgs=games([30.0, 30.0, 30.0, None, None])))
    assert feature(row, "recent_trend") == 0.0
    assert feature(row, "pct_free_throw") == pytest.approx(10 / 90)


def test_minutes_change_buckets_and_sources() -> None:
    def change(recent_cache: float | None, minutes: list[float]) -> tuple[float, float]:
        dc = [dict(player_lookup="p1", cache_date=D.isoformat(), minutes_avg_last_10=recent_cache)]
        row = one_row(run(ctx=[context()], dc=dc, pgs=games([10.0] * len(minutes), minutes_played=minutes)))
        return feature(row, "minutes_change"), row["feature_quality_score"]

    assert change(36.0, [30.0] * 12)[0] == 2.0  # +0.20 exactly
    assert change(33.0, [30.0] * 12)[0] == 1.0  # +0.10
    assert change(27.0, [30.0] * 12)[0] == -1.0  # -0.10
    assert change(24.0, [30.0] * 12)[0] == -2.0
    # No cache value: recent = mean of L (10 newest) = 40, season = (10*40 + 2*10)/12 = 35.
    assert change(None, [40.0] * 10 + [10.0] * 2)[0] == 1.0
    # Recent 0 -> default (tag default lowers the score by 60/25 against calculated 0).
    value_zero, score_zero = change(0.0, [30.0] * 12)
    value_same, score_same = change(30.0, [30.0] * 12)
    assert value_zero == value_same == 0.0 and score_same - score_zero == pytest.approx(60 / 25)


def test_pct_free_throw_clamped_and_default_when_no_points() -> None:
    row = one_row(run(ctx=[context()], pgs=games([2.0] * 5, ft_makes=[3, 3, 3, 3, None])))
    assert feature(row, "pct_free_throw") == 0.5
    row = one_row(run(ctx=[context()], pgs=games([0.0, None, 0.0, 0.0, 0.0])))
    assert feature(row, "pct_free_throw") == 0.15


def test_team_win_pct_dedups_and_counts_null_as_loss() -> None:
    def team_game(k: int, win: bool | None, **kw: Any) -> dict:
        return dict(game_id=f"t{k}", game_date=(D - dt.timedelta(days=k + 1)).isoformat(), team_abbr="BOS",
                    season_year=2024, win_flag=win, **kw)

    toff = [team_game(k, w) for k, w in enumerate([True, True, None, False, True, True])]
    toff += [dict(toff[0], game_id="t0b", win_flag=False, processed_at="2025-01-14T00:00:00Z"),
             dict(team_game(99, True), game_date=D.isoformat()),
             dict(team_game(98, True), game_date="2024-04-01", season_year=2023),
             dict(team_game(97, True), team_abbr="NYK")]
    row = one_row(run(ctx=[context()], toff=toff))
    assert feature(row, "team_win_pct") == pytest.approx(3 / 6)
    row = one_row(run(ctx=[context()], toff=toff[:2] + toff[4:6]))  # 4 wins in 4 games: below the minimum
    assert feature(row, "team_win_pct") == 0.5
    row = one_row(run(ctx=[context()], toff=toff[:2] + toff[3:6]))  # 5 games, 4 wins
    assert feature(row, "team_win_pct") == pytest.approx(4 / 5)


def test_universal_id_and_completeness_team_fall_back() -> None:
    hist = games([10.0] * 3, team="NYK", universal_player_id=[None, "from_pgs", "older"])
    row = one_row(run(ctx=[context(universal_player_id=None)], pgs=hist, sched=schedule(4, team="NYK")))
    assert row["universal_player_id"] == "from_pgs"
    assert (row["expected_games_count"], row["actual_games_count"]) == (4, 3)
    assert row["completeness_percentage"] == 75.0 and row["data_quality_issues"][0] == "own_data_incomplete"
    row = one_row(run(ctx=[context(universal_player_id=None)], sched=schedule(4, team="BOS")))
    assert row["universal_player_id"] is None
    assert (row["expected_games_count"], row["actual_games_count"], row["missing_games_count"]) == (4, 0, 4)


# ---------------------------------------------------------------- context features


def test_context_features_and_tags() -> None:
    ctx = [context("a", player_status="  OUT ", season_phase=" Playoffs ", days_rest=5, opponent_days_rest=0,
                   back_to_back=True, home_game=False),
           context("b", player_status="doubtful", season_phase="regular"),
           context("c", player_status="", season_phase=None),
           context("d", player_status="day-to-day", days_rest=0, opponent_days_rest=4)]
    rows = run(ctx=ctx).rows.set_index("player_lookup")
    feats = {p: rows.loc[p, "features"] for p in rows.index}
    assert [feats["a"][IDX[n]] for n in ("rest_advantage", "injury_risk", "home_away", "back_to_back", "playoff_game")] == [2.0, 3.0, 0.0, 1.0, 1.0]
    assert feats["b"][IDX["injury_risk"]] == 3.0 and feats["b"][IDX["playoff_game"]] == 0.0
    assert feats["c"][IDX["injury_risk"]] == 0.0 and feats["d"][IDX["rest_advantage"]] == -2.0
    # c: empty status and NULL phase are defaults (-60/25 and -35/25 against b).
    assert rows.loc["b", "feature_quality_score"] - rows.loc["c", "feature_quality_score"] == pytest.approx(95 / 25)
    assert rows.loc["a", "is_home"] is False or rows.loc["a", "is_home"] == False  # noqa: E712
    assert int(rows.loc["a", "days_rest"]) == 5


def test_compute_features_tags_directly() -> None:
    frame = pd.DataFrame({"dc_points_avg_last_5": [20.0, np.nan, np.nan], "p3_last5": [18.0, 17.0, np.nan],
                          "home_game": pd.array([True, None, False], dtype="boolean")})
    values, tags = compute_features(frame)
    assert values.shape == (3, 25) and np.isfinite(values).all()
    assert list(values[:, 0]) == [20.0, 17.0, 10.0] and list(tags[:, 0]) == [PHASE4, PHASE3, DEFAULT]
    assert list(tags[:, IDX["home_away"]]) == [PHASE3, DEFAULT, PHASE3]
    assert tags[0, IDX["team_win_pct"]] == DEFAULT and CALCULATED not in set(tags[:, IDX["recent_trend"]])


def test_data_source_thresholds() -> None:
    def tags(n4: int, n3: int) -> np.ndarray:
        return np.array([[PHASE4] * n4 + [PHASE3] * n3 + [DEFAULT] * (25 - n4 - n3)], dtype=object)

    cases = {(23, 0): "phase4", (22, 0): "phase4_partial", (13, 0): "phase4_partial", (12, 13): "phase3",
             (12, 12): "mixed"}
    for (n4, n3), want in cases.items():
        score, source = quality_and_source(tags(n4, n3))
        assert source == [want], (n4, n3)
        assert score[0] == pytest.approx((n4 * 100 + n3 * 75 + (25 - n4 - n3) * 40) / 25)


# ---------------------------------------------------------------- contract


def test_rows_follow_the_contract() -> None:
    ctx = [context("p1"), context("p2", home_game=None, days_rest=None)]
    result = run(ctx=ctx, pgs=games([10.0] * 6) + games([12.0] * 6, player="p2"))
    rows = result.rows
    assert list(rows.columns) == table(mlfs.OUTPUT).column_names
    for vec in rows["features"]:
        assert len(vec) == 25 and all(isinstance(v, float) and math.isfinite(v) for v in vec)
    assert all(list(names) == list(FEATURE_NAMES) for names in rows["feature_names"])
    assert set(rows["feature_count"]) == {25} and set(rows["feature_version"]) == {"v1_baseline_25"}
    assert set(rows["created_at"]) == {pd.Timestamp(RUN_TS)}
    assert rows["feature_generation_time_ms"].isna().all() and rows["updated_at"].isna().all()
    assert not rows["early_season_flag"].any() and not rows["season_boundary_detected"].any()
    p2 = rows.set_index("player_lookup").loc["p2"]
    assert pd.isna(p2["is_home"]) and pd.isna(p2["days_rest"])
    assert rows["data_hash"].str.fullmatch(r"[0-9a-f]{16}").all()


def test_season_boundary_in_april_and_list_or_frame_inputs_agree() -> None:
    day = dt.date(2025, 4, 3)
    inputs = dict(ctx=[context(game_date=day.isoformat())], pgs=games([10.0] * 6, day=day), sched=schedule(6, day=day))
    from_lists = run(day=day, **inputs).rows
    assert bool(from_lists["season_boundary_detected"].iloc[0])
    frames = {mlfs.CONTEXT: pd.DataFrame(inputs["ctx"]), mlfs.PGS: pd.DataFrame(inputs["pgs"]),
              mlfs.SCHEDULE: pd.DataFrame(inputs["sched"])}
    from_frames = mlfs.compute(day, frames, RUN_TS).rows
    assert list(from_frames["data_hash"]) == list(from_lists["data_hash"])


def test_spec_declares_inputs_and_upstreams() -> None:
    spec = mlfs.SPEC
    assert (spec.name, spec.phase, spec.output_table, spec.date_column) == (
        "ml_feature_store", 4, "nba_predictions.ml_feature_store_v2", "game_date")
    assert spec.upstreams == ("team_defense_zone_analysis", "player_shot_zone_analysis",
                              "player_composite_factors", "player_daily_cache")
    assert spec.needs_context and spec.bootstrap_skip
    windows = {i.table: i.window for i in spec.inputs}
    assert windows[mlfs.CONTEXT] == "same_date" and windows[mlfs.PGS] == "season_to_date"
    assert windows[mlfs.SCHEDULE] == "season_to_date" and windows[mlfs.TEAM_OFFENSE] == "season_to_date"
    for inp in spec.inputs:
        contract = set(table(inp.table).column_names)
        assert inp.columns and set(inp.columns) <= contract, inp.table
