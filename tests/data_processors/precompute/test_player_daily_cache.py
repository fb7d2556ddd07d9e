"""player_daily_cache: every spec vector, plus hand-built frames for the rules they leave open."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from data_processors.precompute import conventions as cv
from data_processors.precompute.player_daily_cache import player_daily_cache_processor as pdc
from nba_backfill.frames import normalize_frame
from nba_backfill.tables import table
from nba_backfill.vectors import compare, load_examples, run_example

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "phase4_examples.json"
EXAMPLES = load_examples(VECTORS, "player_daily_cache")
RUN_TS = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
OPENING = dt.date(2024, 10, 22)
D = dt.date(2024, 12, 20)


# --------------------------------------------------------------------------- fixtures


def game_dates(n: int, last: dt.date = D - dt.timedelta(days=2), step: int = 2) -> list[dt.date]:
    """n dates ending at `last`, `step` days apart, oldest first."""
    return [last - dt.timedelta(days=step * i) for i in reversed(range(n))]


def sched(games: list[tuple[dt.date, str, str]], status: int = 3) -> list[dict[str, Any]]:
    """Final regular-season games plus an opening-night row that pins opening night to OPENING."""
    rows = [
        dict(game_id=f"{d:%Y%m%d}_{a}_{h}", game_date=d, season_year=2024, home_team_tricode=h,
             away_team_tricode=a, game_status=status, is_regular_season=True, is_playoffs=False)
        for d, h, a in games
    ]  # fmt: skip
    rows.append(dict(game_id="opening", game_date=OPENING, season_year=2024, home_team_tricode="XXA",
                     away_team_tricode="XXB", game_status=3, is_regular_season=True, is_playoffs=False))  # fmt: skip
    return rows


def game(player: str, day: dt.date, team: str = "BOS", **values: Any) -> dict[str, Any]:
    """One player_game_summary row of an ordinary active game."""
    row: dict[str, Any] = dict(
        player_lookup=player, universal_player_id=f"{player}_001", game_id=f"{day:%Y%m%d}_{team}",
        game_date=day, season_year=2024, team_abbr=team, is_active=True, minutes_played=30.0, points=20,
        usage_rate=25.0, ts_pct=0.55, fg_makes=8, assisted_fg_makes=4, processed_at="2024-12-01T08:00:00Z",
    )  # fmt: skip
    row.update(values)
    return row


def offense(day: dt.date, team: str = "BOS", **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict(team_abbr=team, game_id=f"{day:%Y%m%d}_{team}", game_date=day, season_year=2024,
                               pace=100.0, offensive_rating=110.0, processed_at="2024-12-01T08:00:00Z")  # fmt: skip
    row.update(values)
    return row


def context(player: str, team: str = "BOS", day: dt.date = D, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict(
        player_lookup=player, universal_player_id=f"{player}_001", game_id=f"{day:%Y%m%d}_{team}_NYK",
        game_date=day, team_abbr=team, games_in_last_7_days=3, player_age=27, is_production_ready=True,
        processed_at="2024-12-19T10:00:00Z",
    )  # fmt: skip
    row.update(values)
    return row


def zone(player: str, day: dt.date = D, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict(player_lookup=player, analysis_date=day, primary_scoring_zone="paint",
                               paint_rate_last_10=45.0, three_pt_rate_last_10=30.0, is_production_ready=True,
                               data_hash="abcdabcdabcdabcd", processed_at="2024-12-20T06:00:00Z")  # fmt: skip
    row.update(values)
    return row


def standard(n_games: int = 12, player: str = "p1") -> dict[str, list[dict[str, Any]]]:
    """BOS plays n final games every other day before D; p1 plays all of them; all upstreams ready."""
    dates = game_dates(n_games)
    return {
        pdc.SCHEDULE: sched([(d, "BOS", "NYK") for d in dates]),
        pdc.PGS: [game(player, d) for d in dates],
        pdc.TOFF: [offense(d) for d in dates],
        pdc.CONTEXT: [context(player)],
        pdc.SHOT_ZONE: [zone(player)],
    }


def run(inputs: dict[str, Any], day: dt.date = D):
    return pdc.compute(day, inputs, RUN_TS)


def flag(value: Any) -> bool | None:
    """A BOOLEAN output value as Python bool (None for NULL), whatever its pandas/numpy type."""
    return None if value is None or pd.isna(value) else bool(value)


def only_row(result) -> dict[str, Any]:
    assert result.outcome == "COMPLETE", result.reason
    assert len(result.rows) == 1
    return result.rows.iloc[0].to_dict()


# --------------------------------------------------------------------------- spec vectors


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["description"][:60] for e in EXAMPLES])
def test_spec_vector(example: dict[str, Any]) -> None:
    problems = compare(example, run_example(example))
    assert not problems, f"{example['description']}\n" + "\n".join(problems)


def test_vectors_cover_the_processor() -> None:
    assert len(EXAMPLES) == 4


# --------------------------------------------------------------------------- contract


def test_spec_declares_inputs_windows_and_gate() -> None:
    spec = pdc.SPEC
    assert (spec.name, spec.phase, spec.output_table, spec.date_column) == (
        "player_daily_cache", 4, "nba_precompute.player_daily_cache", "cache_date"
    )
    assert spec.upstreams == ("player_shot_zone_analysis",)
    assert spec.needs_context and spec.bootstrap_skip
    windows = {i.table: i.window for i in spec.inputs}
    assert windows == {
        pdc.CONTEXT: "same_date", pdc.SHOT_ZONE: "same_date", pdc.PGS: "season_to_date",
        pdc.TOFF: "season_to_date", pdc.SCHEDULE: "season_to_date",
    }  # fmt: skip
    for inp in spec.inputs:
        known = set(table(inp.table).column_names)
        assert inp.columns and set(inp.columns) <= known, inp.table
    assert spec.wrapper == "backfill_jobs/precompute/player_daily_cache/player_daily_cache_precompute_backfill.py"


def test_row_has_every_contract_column_and_bookkeeping() -> None:
    result = run(standard())
    assert list(result.rows.columns) == table(pdc.OUTPUT).column_names
    row = only_row(result)
    assert row["cache_date"] == pd.Timestamp(D)
    assert row["processed_at"] == row["created_at"] == pd.Timestamp(RUN_TS)
    assert row["processing_decision_reason"] == "processed_successfully"
    assert flag(row["season_boundary_detected"]) is False
    assert row["cache_version"] == "v1" and row["data_quality_issues"] == []
    for col in ("last_reprocess_attempt_at", "reprocess_attempt_count", "circuit_breaker_active",
                "circuit_breaker_until", "manual_override_required", "backfill_bootstrap_mode"):  # fmt: skip
        assert row[col] is None or pd.isna(row[col]), col
    assert row["source_upcoming_context_rows_found"] == 1
    assert row["source_upcoming_context_completeness_pct"] == 100.0
    assert row["source_upcoming_context_last_updated"] == pd.Timestamp("2024-12-19T10:00:00Z")
    assert row["source_shot_zone_hash"] == "abcdabcdabcdabcd" and row["source_shot_zone_completeness_pct"] == 100.0
    assert row["source_player_game_hash"] is None and row["source_team_offense_hash"] is None


def test_hash_ignores_run_timestamp_but_follows_content() -> None:
    first = run(standard()).rows.iloc[0]
    later = pdc.compute(D, standard(), dt.datetime(2031, 5, 5, tzinfo=dt.timezone.utc)).rows.iloc[0]
    assert first["data_hash"] == later["data_hash"]
    changed = standard()
    changed[pdc.CONTEXT][0]["player_age"] = 28
    assert run(changed).rows.iloc[0]["data_hash"] != first["data_hash"]


def test_dataframe_inputs_with_extra_and_missing_columns_match_row_inputs() -> None:
    rows = standard()
    frames = {name: pd.DataFrame(values).assign(unrelated=1) for name, values in rows.items()}
    frames[pdc.TOFF] = frames[pdc.TOFF].drop(columns=["processed_at"])
    a, b = run(rows).rows.iloc[0], run(frames).rows.iloc[0]
    assert a["data_hash"] == b["data_hash"]
    assert pd.isna(b["source_team_offense_last_updated"])


# --------------------------------------------------------------------------- outcomes


def test_bootstrap_day_is_skipped() -> None:
    day = OPENING + dt.timedelta(days=6)
    result = run(standard(), day)
    assert (result.outcome, result.reason) == ("SKIPPED_BOOTSTRAP", "bootstrap day 6 of season 2024")
    assert result.rows.empty


def test_no_context_and_no_game_is_expected_empty() -> None:
    inputs = standard()
    inputs[pdc.CONTEXT] = []
    result = run(inputs)
    assert (result.outcome, result.reason) == ("EXPECTED_EMPTY", f"no games on {D.isoformat()}")


def test_no_context_although_games_scheduled_fails() -> None:
    inputs = standard()
    inputs[pdc.CONTEXT] = [context("p1", day=D - dt.timedelta(days=1))]  # another date only
    on_d = sched([(D, "BOS", "NYK"), (D, "BOS", "NYK"), (D, "LAL", "GSW")], status=1)[:-1]
    preseason = dict(on_d[0], home_team_tricode="MIA", away_team_tricode="ORL", is_regular_season=False)
    inputs[pdc.SCHEDULE] = inputs[pdc.SCHEDULE] + on_d + [preseason]
    result = run(inputs)
    assert result.outcome == "FAILED" and result.rows.empty
    assert result.reason == (
        f"no upcoming_player_game_context rows for {D.isoformat()} although the schedule lists 2 game(s) on that date"
    )


def test_thin_player_is_skipped_with_reason_and_others_kept() -> None:
    inputs = standard()
    inputs[pdc.PGS] += [game("thin", d) for d in game_dates(4)]
    inputs[pdc.PGS] += [game("thin", D - dt.timedelta(days=1), is_active=False)]  # DNP: not active
    inputs[pdc.CONTEXT].append(context("thin"))
    result = run(inputs)
    assert result.outcome == "COMPLETE" and list(result.rows["player_lookup"]) == ["p1"]
    assert [s.as_dict() for s in result.skipped] == [
        {"entity_id": "thin", "category": "insufficient_data", "reason": "4 active games, need 5"}
    ]


def test_everyone_skipped_although_teams_played_enough_fails() -> None:
    inputs = standard(n_games=6)
    inputs[pdc.PGS] = [game("p1", d) for d in game_dates(3)]
    inputs[pdc.CONTEXT] += [context("p2", team="NYK")]
    result = run(inputs)
    assert result.outcome == "FAILED" and result.rows.empty
    assert result.reason == "0/2 players have 5 active games although the schedule shows 6 final games for some team"
    assert {s.reason for s in result.skipped} == {"3 active games, need 5", "0 active games, need 5"}


def test_everyone_skipped_early_in_season_is_expected_empty() -> None:
    inputs = standard(n_games=4)
    result = run(inputs)
    assert (result.outcome, result.reason) == ("EXPECTED_EMPTY", "0/1 players have 5 active games")


def test_numeric_overflow_fails_the_whole_date() -> None:
    inputs = standard()
    inputs[pdc.PGS][-1]["points"] = 2_000_000  # points_avg_* exceed NUMERIC(5,1)
    inputs[pdc.CONTEXT].append(context("p2"))
    inputs[pdc.PGS] += [game("p2", d) for d in game_dates(12)]
    result = run(inputs)
    assert result.outcome == "FAILED" and result.rows.empty
    assert "points_avg" in result.reason


# --------------------------------------------------------------------------- history windows


def test_windows_are_leak_free_same_season_and_deduplicated() -> None:
    inputs = standard(n_games=6)
    inputs[pdc.PGS] += [
        game("p1", D, points=99),  # D itself: never read
        game("p1", dt.date(2024, 10, 15), points=99),  # preseason, before opening night
        game("p1", dt.date(2024, 3, 1), season_year=2023, points=99),  # last season
        # a duplicate of the newest game with a later processed_at wins
        game("p1", game_dates(6)[-1], points=50, game_id="dup", processed_at="2024-12-19T00:00:00Z"),
    ]
    row = only_row(run(inputs))
    assert row["games_played_season"] == 6
    assert row["points_avg_last_5"] == pytest.approx((50 + 4 * 20) / 5)
    assert row["points_avg_season"] == pytest.approx(round((50 + 5 * 20) / 6, 1))


def test_history_aggregates_by_hand() -> None:
    inputs = standard(n_games=12)
    points = [30, 10, 20, 25, 15, 35, None, 5, 40, 20, 11, 13]  # newest first
    for row, pts in zip(reversed(inputs[pdc.PGS]), points):
        row["points"] = pts
    newest = list(reversed(inputs[pdc.PGS]))
    newest[0].update(usage_rate=None, ts_pct=0.5, fg_makes=None, assisted_fg_makes=3)
    newest[1].update(minutes_played=20.0, assisted_fg_makes=None)
    newest[10].update(usage_rate=60.0)  # outside G10: season usage only
    row = only_row(run(inputs))
    g10 = [p for p in points[:10] if p is not None]
    mean10 = sum(g10) / len(g10)
    std10 = (sum((p - mean10) ** 2 for p in g10) / (len(g10) - 1)) ** 0.5
    assert row["points_avg_last_5"] == 20.0
    assert row["points_avg_last_10"] == round(mean10, 1)
    assert row["points_std_last_10"] == pytest.approx(round(std10, 2))
    assert row["minutes_avg_last_10"] == 29.0
    assert row["usage_rate_last_10"] == 25.0
    assert row["player_usage_rate_season"] == pytest.approx(round((10 * 25.0 + 60.0) / 11, 2))
    assert row["ts_pct_last_10"] == pytest.approx(0.545)
    assert row["assisted_rate_last_10"] == pytest.approx(round((3 + 0 + 8 * 4) / (0 + 9 * 8), 2))
    assert flag(row["early_season_flag"]) is False and row["insufficient_data_reason"] is None


def test_context_copies_and_null_zone_copies() -> None:
    inputs = standard()
    inputs[pdc.CONTEXT][0].update(
        games_in_last_14_days=6, minutes_in_last_7_days=101, minutes_in_last_14_days=None,
        back_to_backs_last_14_days=2, avg_minutes_per_game_last_7=33.75, fourth_quarter_minutes_last_7=20,
    )  # fmt: skip
    inputs[pdc.SHOT_ZONE] = [zone("other")]
    row = only_row(run(inputs))
    assert (row["games_in_last_7_days"], row["games_in_last_14_days"], row["minutes_in_last_7_days"]) == (3, 6, 101)
    assert pd.isna(row["minutes_in_last_14_days"])
    assert (row["back_to_backs_last_14_days"], row["fourth_quarter_minutes_last_7"], row["player_age"]) == (2, 20, 27)
    assert row["avg_minutes_per_game_last_7"] == 33.8  # NUMERIC(5,1), half away from zero
    assert row["primary_scoring_zone"] is None and pd.isna(row["paint_rate_last_10"])
    assert row["source_shot_zone_rows_found"] == 0 and row["source_shot_zone_completeness_pct"] == 0.0
    assert row["data_quality_issues"] == ["upstream_player_shot_zone_missing"]
    assert flag(row["is_production_ready"]) is False


def test_team_window_uses_context_team_and_its_ten_newest_games() -> None:
    dates = game_dates(12)
    inputs = standard()
    inputs[pdc.CONTEXT] = [context("p1", team="NYK")]  # traded: history is BOS, context says NYK
    inputs[pdc.TOFF] = [offense(d, "NYK", pace=90.0 + i, processed_at=f"2024-12-{i + 1:02d}T00:00:00Z")
                        for i, d in enumerate(dates)]  # fmt: skip
    inputs[pdc.TOFF] += [offense(dates[-1], "NYK", pace=500.0, processed_at="2024-11-01T00:00:00Z")]  # stale dup
    inputs[pdc.TOFF] += [offense(d, "BOS", pace=50.0) for d in dates]
    row = only_row(run(inputs))
    assert row["team_pace_last_10"] == pytest.approx(sum(90.0 + i for i in range(2, 12)) / 10)
    assert row["team_off_rating_last_10"] == 110.0
    assert row["source_team_offense_rows_found"] == 10
    assert row["source_team_offense_last_updated"] == pd.Timestamp("2024-12-12T00:00:00Z")
    assert row["source_team_offense_completeness_pct"] == 100.0  # NYK's last 10 final games all have a row


def test_team_offense_source_completeness_counts_missing_rows() -> None:
    inputs = standard()
    inputs[pdc.TOFF] = inputs[pdc.TOFF][:-1]  # newest BOS game has no team-offense row
    row = only_row(run(inputs))
    assert row["source_team_offense_completeness_pct"] == 90.0
    assert row["source_team_offense_rows_found"] == 10  # T is still the ten newest rows present


def test_team_without_offense_rows_gives_null_team_columns() -> None:
    inputs = standard()
    inputs[pdc.TOFF] = []
    row = only_row(run(inputs))
    assert pd.isna(row["team_pace_last_10"]) and pd.isna(row["team_off_rating_last_10"])
    assert row["source_team_offense_rows_found"] == 0
    assert row["source_team_offense_completeness_pct"] == 0.0


def test_universal_player_id_falls_back_to_newest_history_value() -> None:
    inputs = standard()
    inputs[pdc.CONTEXT][0]["universal_player_id"] = None
    inputs[pdc.PGS][-1]["universal_player_id"] = None
    inputs[pdc.PGS][-2]["universal_player_id"] = "p1_new"
    assert only_row(run(inputs))["universal_player_id"] == "p1_new"


def test_duplicate_context_rows_keep_latest_processed() -> None:
    inputs = standard()
    inputs[pdc.CONTEXT].append(context("p1", player_age=31, processed_at="2024-12-19T12:00:00Z"))
    assert only_row(run(inputs))["player_age"] == 31


# --------------------------------------------------------------------------- completeness and readiness


def test_short_window_gap_is_informational_only() -> None:
    inputs = standard()
    del inputs[pdc.PGS][-3]  # one of the last 5 games missing: L5 80, L10 90
    row = only_row(run(inputs))
    assert (row["l5_completeness_pct"], row["l10_completeness_pct"]) == (80.0, 90.0)
    assert [flag(row[c]) for c in ("l5_is_complete", "l10_is_complete", "all_windows_complete")] == [False, True, False]
    assert (row["expected_games_count"], row["actual_games_count"], row["missing_games_count"]) == (10, 9, 1)
    assert row["l7d_completeness_pct"] == pytest.approx(66.7) and row["l14d_completeness_pct"] == pytest.approx(85.7)
    assert row["source_player_game_completeness_pct"] == 90.0
    assert flag(row["is_production_ready"]) is True and row["data_quality_issues"] == []


def test_dnp_rows_count_for_completeness_and_idle_team_is_complete() -> None:
    dates = game_dates(10, last=D - dt.timedelta(days=20))  # idle for the last 19 days
    inputs = standard()
    inputs[pdc.SCHEDULE] = sched([(d, "BOS", "NYK") for d in dates])
    inputs[pdc.PGS] = [game("p1", d) for d in dates[:-1]] + [game("p1", dates[-1], is_active=False, minutes_played=0)]
    row = only_row(run(inputs))
    assert row["games_played_season"] == 9 and row["completeness_percentage"] == 100.0
    assert (row["l7d_completeness_pct"], row["l14d_completeness_pct"]) == (100.0, 100.0)
    assert row["insufficient_data_reason"] == "Only 9 games played, need 10 minimum"


def test_issue_order_and_upstream_readiness() -> None:
    inputs = standard()
    inputs[pdc.PGS] = inputs[pdc.PGS][:-2]  # the 2 newest team games have no row: L10 at 80
    inputs[pdc.CONTEXT][0]["is_production_ready"] = None
    inputs[pdc.SHOT_ZONE][0]["is_production_ready"] = False
    row = only_row(run(inputs))
    assert row["completeness_percentage"] == 80.0
    assert row["data_quality_issues"] == [
        "own_data_incomplete", "upstream_player_context_incomplete", "upstream_player_shot_zone_incomplete",
    ]  # fmt: skip
    assert flag(row["is_production_ready"]) is False


def test_completeness_team_is_newest_history_team() -> None:
    inputs = standard(n_games=12)
    mia_dates = game_dates(3, last=D - dt.timedelta(days=1))
    inputs[pdc.SCHEDULE] += sched([(d, "MIA", "LAL") for d in mia_dates])[:-1]
    inputs[pdc.PGS] += [game("p1", mia_dates[-1], team="MIA", is_active=False)]  # newest row: MIA (DNP)
    row = only_row(run(inputs))
    assert (row["expected_games_count"], row["actual_games_count"]) == (3, 1)  # MIA has only 3 final games
    assert row["completeness_percentage"] == 33.3 and row["team_pace_last_10"] == 100.0  # team stats: BOS


def test_one_pass_windows_match_conventions_completeness() -> None:
    dates = game_dates(16, step=1)
    games = [(d, "BOS", "NYK") for d in dates[::2]] + [(d, "LAL", "BOS") for d in dates[1::3]]
    games += [(d, "DAL", "PHX") for d in dates]  # daily games: the 14-day window reaches past 10 games
    schedule = normalize_frame(pd.DataFrame(sched(games)), table(pdc.SCHEDULE))
    rows = [game("a", d) for d in dates[::3]] + [game("b", d, team="LAL") for d in dates] + [game("c", dates[0])]
    rows += [game("e", d, team="DAL") for d in dates[:-3]]
    hist = normalize_frame(pd.DataFrame(rows), table(pdc.PGS))
    players = pd.DataFrame({"entity": ["a", "b", "c", "d", "e"], "team": ["BOS", "LAL", "BOS", "GSW", "DAL"]})
    team_dates = cv.team_final_dates(schedule, D)
    got = pdc.completeness_windows(players, hist, team_dates, D)
    dates_frame = hist[["player_lookup", "game_date"]].rename(columns={"player_lookup": "entity"})
    for prefix, (games, days) in pdc.WINDOWS.items():
        want = cv.completeness(players, dates_frame, team_dates, day=D, last_games=games, last_days=days)
        assert got[f"{prefix}_completeness_pct"].tolist() == want["pct"].tolist(), prefix
        if prefix == "l10":
            assert got["expected_games_count"].tolist() == want["expected"].tolist()
            assert got["actual_games_count"].tolist() == want["actual"].tolist()


def test_duplicate_shot_zone_rows_keep_latest_processed() -> None:
    inputs = standard()
    inputs[pdc.SHOT_ZONE].append(zone("p1", paint_rate_last_10=61.5, data_hash="ffffffffffffffff",
                                      processed_at="2024-12-20T07:00:00Z"))  # fmt: skip
    row = only_row(run(inputs))
    assert (row["paint_rate_last_10"], row["source_shot_zone_hash"]) == (61.5, "ffffffffffffffff")
    assert row["source_shot_zone_rows_found"] == 1


@pytest.mark.parametrize("how", ["mean", "sum"])
@pytest.mark.parametrize("layout", ["grouped", "scattered"])
@pytest.mark.parametrize("with_nan", [False, True])
def test_entity_aggregate_is_bit_identical_to_pandas_groupby(how: str, layout: str, with_nan: bool) -> None:
    import numpy as np

    rng = np.random.default_rng(7)
    for _ in range(200):
        k = int(rng.integers(1, 8))
        codes = np.repeat(rng.permutation(k + 2)[:k], rng.integers(1, 25, k))
        if layout == "scattered":
            codes = rng.permutation(codes)
        values = np.round(rng.random(len(codes)) * 48, int(rng.integers(1, 4)))
        if with_nan:
            values[rng.random(len(values)) < 0.15] = np.nan
        got = cv.entity_aggregate(how, codes, {"v": values}, k + 2)["v"]
        grouped = pd.Series(values).groupby(pd.Series(codes.astype(str), dtype=object), sort=False)
        want = grouped.mean() if how == "mean" else grouped.sum()
        for key, value in want.items():
            assert got[int(key)] == value or (np.isnan(got[int(key)]) and np.isnan(value))
        absent = np.setdiff1d(np.arange(k + 2), codes)
        assert (np.isnan(got[absent]) if how == "mean" else got[absent] == 0.0).all()


@pytest.mark.parametrize("null_team", [False, True])
def test_window_counts_match_conventions_completeness_windows(null_team: bool) -> None:
    import numpy as np

    from data_processors.precompute.player_daily_cache.windows import window_counts

    dates = game_dates(16, step=1)
    games = [(d, "BOS", "NYK") for d in dates[::2]] + [(d, "LAL", "BOS") for d in dates[1::3]]
    games += [(d, "DAL", "PHX") for d in dates]
    schedule = normalize_frame(pd.DataFrame(sched(games)), table(pdc.SCHEDULE))
    if null_team:  # a NULL tricode in the schedule: the shared (merge-based) path
        schedule.loc[0, "home_team_tricode"] = None
    team_dates = cv.team_final_dates(schedule, D)
    teams = np.array(["BOS", "LAL", None, "GSW", "DAL", "NYK"], dtype=object)  # GSW: no final game
    rows = [(0, d) for d in dates[::3]] + [(1, d) for d in dates] + [(1, dates[-1])]  # a repeated row
    rows += [(4, d) for d in dates[:-3]] + [(5, d) for d in dates[::2]] + [(-1, dates[-1]), (2, dates[-2])]
    ids = np.array([e for e, _ in rows])
    when = np.array([np.datetime64(d, "ns") for _, d in rows])
    windows = {"g5": ("games", 5), "g10": ("games", 10), "d7": ("days", 7), "d14": ("days", 14)}
    got = window_counts(teams, (ids, when), team_dates, D, windows)
    entities = pd.DataFrame({"entity": np.arange(len(teams)), "team": pd.Series(teams, dtype=object)})
    want = cv.completeness_windows(entities, pd.DataFrame({"entity": ids, "game_date": when}), team_dates, day=D,
                                   windows=windows)  # fmt: skip
    for name in windows:
        assert got[name][0].tolist() == want[name]["expected"].tolist(), name
        assert got[name][1].tolist() == want[name]["actual"].tolist(), name
    assert got["g10"][0].tolist()[3] == 0 and got["g10"][1].tolist()[1] > 0
