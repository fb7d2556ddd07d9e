"""upcoming_player_game_context: the spec's worked examples plus focused rules on tiny frames."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from data_processors.analytics.upcoming_player_game_context import upcoming_player_game_context_processor as upgc
from data_processors.analytics.upcoming_player_game_context.availability import (
    availability,
    dry_run_line,
    dry_run_summary,
    log_line,
)
from data_processors.analytics.upcoming_player_game_context.keys import canon, map_team
from nba_backfill.tables import table
from nba_backfill.vectors import compare, load_examples, run_example

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "phase3_examples.json"
EXAMPLES = load_examples(VECTORS, "upcoming_player_game_context")

OPENING = dt.date(2023, 10, 24)


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{e['date']}" for e in EXAMPLES])
def test_worked_example(example: dict) -> None:
    problems = compare(example, run_example(example))
    assert not problems, example["description"] + "\n" + "\n".join(problems)


def test_every_vector_is_for_this_processor() -> None:
    assert len(EXAMPLES) == 9


# --- tiny input builders (opening night, so the upstream presence check has no D_prev) -----------

def game(home: str, away: str, day: dt.date = OPENING, nba_id: str = "0022300001", **kw: object) -> dict:
    row = {
        "game_id": nba_id, "game_date": day.isoformat(), "season_year": 2023, "home_team_tricode": home,
        "away_team_tricode": away, "game_status": 3, "is_regular_season": True, "is_playoffs": False,
        "is_all_star": False, "processed_at": "2023-10-25T06:00:00Z",
    }
    row.update(kw)
    return row


def bp_row(name: str, team: str, book_id: int, bookmaker: str, line: float, **kw: object) -> dict:
    row = {
        "game_date": OPENING.isoformat(), "market_type": "points", "bp_event_id": 1, "bet_side": "over",
        "player_name": name, "player_lookup": canon(name), "player_team": team, "validated_team": None,
        "book_id": book_id, "bookmaker": bookmaker, "points_line": line, "is_active": True, "is_best_line": False,
        "bookmaker_last_update": "2023-10-24T15:00:00Z", "opening_line": None, "opening_book_id": None,
        "source_file_path": "bp/1500.json", "processed_at": "2023-10-24T15:00:30Z",
    }
    row.update(kw)
    return row


def odds_row(name: str, home: str, away: str, book: str, line: float, snapshot: str, mbt: float | None, **kw: object) -> dict:
    row = {
        "game_id": "x", "game_date": OPENING.isoformat(), "game_start_time": "2023-10-24T23:30:00Z",
        "home_team_abbr": home, "away_team_abbr": away, "snapshot_timestamp": snapshot, "minutes_before_tipoff": mbt,
        "bookmaker": book, "player_name": name, "player_lookup": None, "points_line": line,
        "bookmaker_last_update": snapshot, "processed_at": snapshot,
    }
    row.update(kw)
    return row


def run(inputs: dict, day: dt.date = OPENING, ts: dt.datetime | None = None):
    return upgc.compute(day, inputs, ts or dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc))


def by_player(result) -> dict[str, dict]:
    return {r["player_lookup"]: r for r in result.rows.to_dict("records")}


# --- keys and teams ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("LeBron James", "lebronjames"), ("D'Angelo Russell", "dangelorussell"), ("P.J. Tucker", "pjtucker"),
        ("Nikola Jokić", "nikolajokic"), ("Kristaps Porziņģis", "kristapsporzingis"),
        ("Jaren Jackson Jr.", "jarenjacksonjr"), ("Robert Williams III", "robertwilliamsiii"),
    ],
)
def test_canonical_key_keeps_suffixes_and_folds_accents(name: str, key: str) -> None:
    assert canon(name) == key


def test_team_variants_map_and_unknown_codes_mean_no_team() -> None:
    assert [map_team(c) for c in ("BRK", " pho ", "GS", "UTAH", "WSH", "BOS")] == ["BKN", "PHX", "GSW", "UTA", "WAS", "BOS"]
    assert map_team("FA") is None and map_team(None) is None


# --- lines ----------------------------------------------------------------------------------------

def test_odds_api_one_book_pre_tip_only() -> None:
    """Spec 8.B: the in-game DraftKings row is ignored; b* = draftkings; FanDuel's movement is not mixed in."""
    rows = [
        odds_row("Jayson Tatum", "DEN", "LAL", "fanduel", 24.5, "2023-10-24T13:30:00Z", 600),
        odds_row("Jayson Tatum", "DEN", "LAL", "fanduel", 25.5, "2023-10-24T21:30:00Z", 120),
        odds_row("Jayson Tatum", "DEN", "LAL", "draftkings", 25.0, "2023-10-24T21:30:00Z", 120),
        odds_row("Jayson Tatum", "DEN", "LAL", "draftkings", 27.5, "2023-10-24T23:40:00Z", -10),
    ]
    bp = [bp_row("Jayson Tatum", "LAL", 12, "DraftKings", 26.0)]
    row = by_player(run({upgc.SCHEDULE: [game("DEN", "LAL")], upgc.ODDS: rows, upgc.BETTINGPROS: bp}))["jaysontatum"]
    assert (row["current_points_line"], row["opening_points_line"], row["line_movement"]) == (25.0, 25.0, 0.0)
    assert row["current_points_line_source"] == row["opening_points_line_source"] == "odds_api:draftkings"
    assert row["team_abbr"] == "LAL" and row["data_quality_issues"] == ["no_season_history", "no_birth_date", "no_universal_id"]


def test_odds_api_opening_and_current_from_the_same_book() -> None:
    rows = [
        odds_row("A B", "DEN", "LAL", "draftkings", 20.5, "2023-10-24T12:00:00Z", 690),
        odds_row("A B", "DEN", "LAL", "draftkings", 21.5, "2023-10-24T21:30:00Z", 120),
        odds_row("A B", "DEN", "LAL", "fanduel", 30.5, "2023-10-24T22:30:00Z", 60),
    ]
    bp = [bp_row("A B", "DEN", 12, "DraftKings", 21.0)]
    row = by_player(run({upgc.SCHEDULE: [game("DEN", "LAL")], upgc.ODDS: rows, upgc.BETTINGPROS: bp}))["ab"]
    assert (row["opening_points_line"], row["current_points_line"], row["line_movement"]) == (20.5, 21.5, 1.0)
    assert row["home_game"] == True  # noqa: E712 (nullable boolean)


def test_odds_api_null_minutes_before_tipoff_needs_snapshot_before_start() -> None:
    rows = [
        odds_row("A B", "DEN", "LAL", "fanduel", 20.5, "2023-10-24T23:00:00Z", None),
        odds_row("A B", "DEN", "LAL", "fanduel", 25.5, "2023-10-24T23:45:00Z", None),
        odds_row("C D", "DEN", "LAL", "fanduel", 9.5, "2023-10-24T23:00:00Z", None, game_start_time=None),
    ]
    bp = [bp_row("A B", "DEN", 12, "DraftKings", 21.0), bp_row("C D", "DEN", 12, "DraftKings", 9.0)]
    result = run({upgc.SCHEDULE: [game("DEN", "LAL")], upgc.ODDS: rows, upgc.BETTINGPROS: bp})
    rows_by = by_player(result)
    assert rows_by["ab"]["current_points_line"] == 20.5
    assert rows_by["cd"]["current_points_line_source"] == "bettingpros:DraftKings"  # no eligible Odds API row
    assert result.details["odds_api_players"] == 1 and result.details["both_sources"] == 1


def test_odds_api_multiple_games_keeps_the_game_with_most_rows() -> None:
    schedule = [game("DEN", "LAL"), game("GSW", "PHX", nba_id="0022300002")]
    rows = [
        odds_row("A B", "GSW", "PHX", "draftkings", 20.5, "2023-10-24T21:00:00Z", 120),
        odds_row("A B", "PHX", "GSW", "fanduel", 20.0, "2023-10-24T21:00:00Z", 120),  # swapped orientation
        odds_row("A B", "DEN", "LAL", "draftkings", 18.5, "2023-10-24T21:00:00Z", 120),
    ]
    bp = [bp_row("A B", "PHX", 12, "DraftKings", 20.0)]
    row = by_player(run({upgc.SCHEDULE: schedule, upgc.ODDS: rows, upgc.BETTINGPROS: bp}))["ab"]
    assert row["game_id"] == "20231024_PHX_GSW" and row["team_abbr"] == "PHX" and row["home_game"] == False  # noqa: E712
    assert row["data_quality_issues"][0] == "multiple_games"
    assert row["source_props_rows_found"] == 3


def test_bettingpros_priority_beats_best_price_and_opening_names_the_opening_book() -> None:
    """Spec 8.A: DraftKings wins on priority; the opening source is book 19 = BetMGM."""
    common = {"opening_line": 18.5, "opening_book_id": 19}
    bp = [
        bp_row("Jaren Jackson Jr.", "LAL", 19, "BetMGM", 18.5, is_best_line=True, bookmaker_last_update="2023-10-24T15:00:00Z", **common),
        bp_row("Jaren Jackson Jr.", "LAL", 12, "DraftKings", 19.5, bookmaker_last_update="2023-10-24T14:00:00Z", **common),
        bp_row("Jaren Jackson Jr.", "LAL", 10, "FanDuel", 19.0, is_best_line=True, bookmaker_last_update="2023-10-24T16:00:00Z", **common),
        bp_row("Jaren Jackson Jr.", "LAL", 0, "BettingPros Consensus", 19.0, bookmaker_last_update="2023-10-24T16:30:00Z", **common),
    ]
    row = by_player(run({upgc.SCHEDULE: [game("DEN", "LAL")], upgc.BETTINGPROS: bp}))["jarenjacksonjr"]
    assert (row["current_points_line"], row["opening_points_line"], row["line_movement"]) == (19.5, 18.5, 1.0)
    assert row["current_points_line_source"] == "bettingpros:DraftKings"
    assert row["opening_points_line_source"] == "bettingpros:BetMGM"


@pytest.mark.parametrize(
    ("opening_book_id", "source"),
    [(None, "bettingpros:Caesars"), (99, "bettingpros:book_99"), (0, "bettingpros:BettingPros Consensus")],
)
def test_bettingpros_opening_book_fallbacks(opening_book_id: int | None, source: str) -> None:
    bp = [bp_row("A B", "LAL", 13, "Caesars", 12.5, opening_line=11.0, opening_book_id=opening_book_id)]
    row = by_player(run({upgc.SCHEDULE: [game("DEN", "LAL")], upgc.BETTINGPROS: bp}))["ab"]
    assert row["opening_points_line"] == 11.0 and row["opening_points_line_source"] == source


def test_bettingpros_without_opening_line_takes_earliest_row_of_the_same_book() -> None:
    bp = [
        bp_row("A B", "LAL", 0, "BettingPros Consensus", 23.5, bookmaker_last_update="2023-10-24T09:00:00Z"),
        bp_row("A B", "LAL", 0, "BettingPros Consensus", 24.5, bookmaker_last_update="2023-10-24T16:00:00Z"),
        bp_row("A B", "LAL", 0, "BettingPros Consensus", 30.5, bet_side="under", bookmaker_last_update="2023-10-24T08:00:00Z"),
        bp_row("A B", "LAL", 12, "DraftKings", 26.5, is_active=False),
        bp_row("A B", "LAL", 12, "DraftKings", 6.5, market_type="rebounds"),
    ]
    row = by_player(run({upgc.SCHEDULE: [game("DEN", "LAL")], upgc.BETTINGPROS: bp}))["ab"]
    assert (row["current_points_line"], row["opening_points_line"]) == (24.5, 23.5)
    assert row["opening_points_line_source"] == "bettingpros:BettingPros Consensus"
    assert row["source_props_rows_found"] == 2


# --- universe and outcomes -----------------------------------------------------------------------

def test_universe_is_decided_per_player() -> None:
    """Spec 8.C: O = {a, b}, B = {b, c} -> a and b from odds_api, c from bettingpros."""
    odds = [
        odds_row("Aa Aa", "DEN", "LAL", "draftkings", 10.5, "2023-10-24T21:30:00Z", 120),
        odds_row("Bb Bb", "DEN", "LAL", "draftkings", 11.5, "2023-10-24T21:30:00Z", 120),
    ]
    bp = [bp_row("Bb Bb", "DEN", 12, "DraftKings", 99.5), bp_row("Cc Cc", "LAL", 12, "DraftKings", 12.5)]
    last_season = [{"player_lookup": "aaaa", "game_id": "20230401_LAL_SAS", "game_date": "2023-04-01", "team_abbr": "LAL",
                    "season_year": 2022, "is_active": True, "minutes_played": 20.0, "universal_player_id": "aaaa_001"}]
    inputs = {upgc.SCHEDULE: [game("DEN", "LAL")], upgc.ODDS: odds, upgc.BETTINGPROS: bp, upgc.PGS: last_season}
    result = run(inputs)
    rows = by_player(result)
    assert [rows[k]["current_points_line_source"] for k in ("aaaa", "bbbb", "cccc")] == [
        "odds_api:draftkings", "odds_api:draftkings", "bettingpros:DraftKings",
    ]
    assert rows["bbbb"]["current_points_line"] == 11.5 and rows["bbbb"]["team_abbr"] == "DEN"
    assert rows["aaaa"]["team_abbr"] == "LAL" and rows["aaaa"]["data_quality_issues"][0] == "team_from_history"
    assert rows["aaaa"]["universal_player_id"] == "aaaa_001" and rows["aaaa"]["source_boxscore_rows_found"] == 0
    info = availability(OPENING, inputs)
    assert info["line"] == (
        "2023-10-24: 1 games | odds_api 2 players | bettingpros 2 players (both 1)"
        " | chosen odds_api 2, bettingpros 1 | unresolved 0 -> 3 players available"
    )
    assert result.details["chosen_odds_api"] == 2 and result.entities_eligible == 3


def test_odds_api_player_without_any_side_is_unresolved() -> None:
    odds = [odds_row("Aa Aa", "DEN", "LAL", "draftkings", 10.5, "2023-10-24T21:30:00Z", 120)]
    bp = [bp_row("Cc Cc", "LAL", 12, "DraftKings", 12.5)]
    inputs = {upgc.SCHEDULE: [game("DEN", "LAL")], upgc.ODDS: odds, upgc.BETTINGPROS: bp}
    result = run(inputs)
    assert result.details["unresolved"] == [{"player_lookup": "aaaa", "reason": "side_unknown"}]
    assert (result.outcome, result.reason) == ("DEGRADED", "coverage 50.0% below 90%")
    assert availability(OPENING, inputs)["line"].endswith("| unresolved 1 -> 1 players available")


def test_no_props_is_not_a_success() -> None:
    inputs = {upgc.SCHEDULE: [game("DEN", "LAL")], upgc.BETTINGPROS: [bp_row("A B", "LAL", 12, "DraftKings", 5.5, bet_side="under")]}
    result = run(inputs)
    assert (result.outcome, result.reason, len(result.rows)) == ("NO_SOURCE_DATA", "no props in either source", 0)
    assert result.details["outcome"] == "no_props"
    assert availability(OPENING, inputs)["line"].endswith("-> 0 players available (no props in either source)")


def test_no_player_resolved_fails() -> None:
    bp = [bp_row("A B", "BOS", 12, "DraftKings", 5.5)]
    result = run({upgc.SCHEDULE: [game("DEN", "LAL")], upgc.BETTINGPROS: bp})
    assert (result.outcome, result.reason) == ("FAILED", "props found but no player resolved to a game")
    assert result.details["unresolved"] == [{"player_lookup": "ab", "reason": "no_game"}] and result.rows.empty


def test_partial_above_threshold_stays_complete_with_a_warning() -> None:
    bp = [bp_row(f"Player {chr(97 + i)}", "LAL", 12, "DraftKings", 10.5) for i in range(10)]
    bp.append(bp_row("Lost Guy", "FA", 12, "DraftKings", 4.5, bp_event_id=2))
    result = run({upgc.SCHEDULE: [game("DEN", "LAL")], upgc.BETTINGPROS: bp})
    assert (result.outcome, result.reason, len(result.rows)) == ("COMPLETE", None, 10)
    assert result.details["outcome"] == "partial" and "lostguy (no_game)" in result.warnings[0]


def test_out_of_range_numeric_fails_with_no_rows() -> None:
    bp = [bp_row("A B", "LAL", 12, "DraftKings", 1234.5)]
    result = run({upgc.SCHEDULE: [game("DEN", "LAL")], upgc.BETTINGPROS: bp})
    assert result.outcome == "FAILED" and result.rows.empty and "current_points_line" in result.reason


def test_schedule_dedup_keeps_the_final_row() -> None:
    schedule = [
        game("NOP", "DAL", game_status=1, processed_at="2023-10-23T06:00:00Z"),
        game("NOP", "DAL", game_status=3, processed_at="2023-10-25T06:00:00Z"),
        game("NOP", "DAL", game_status=2, processed_at="2023-10-26T06:00:00Z"),
        game("UTA", "GSW", nba_id="0022300002", game_status=1),
        game("MIA", "BOS", nba_id="0032300001", is_regular_season=False, is_all_star=True),
    ]
    bp = [bp_row("A B", "DAL", 12, "DraftKings", 5.5)]
    result = run({upgc.SCHEDULE: schedule, upgc.BETTINGPROS: bp})
    assert result.details["games"] == 1 and result.rows["game_id"].tolist() == ["20231024_DAL_NOP"]
    assert result.rows["source_schedule_rows_found"].tolist() == [1]


def test_registry_two_teams_split_by_latest_first_game_date() -> None:
    odds = [odds_row("A B", "DEN", "LAL", "draftkings", 10.5, "2023-10-24T21:30:00Z", 120)]
    registry = [
        {"player_lookup": "ab", "team_abbr": "DEN", "season": "2023-24", "first_game_date": "2023-10-01", "universal_player_id": "ab_001", "processed_at": "2024-01-01T00:00:00Z"},
        {"player_lookup": "ab", "team_abbr": "LAL", "season": "2023-24", "first_game_date": "2023-10-20", "universal_player_id": None, "processed_at": "2024-01-01T00:00:00Z"},
        {"player_lookup": "ab", "team_abbr": "PHX", "season": "2024-25", "first_game_date": None, "universal_player_id": "ab_new", "processed_at": "2025-01-01T00:00:00Z"},
    ]
    row = by_player(run({upgc.SCHEDULE: [game("DEN", "LAL")], upgc.ODDS: odds, upgc.REGISTRY: registry}))["ab"]
    assert row["team_abbr"] == "LAL" and row["data_quality_issues"][0] == "team_from_registry"
    assert row["universal_player_id"] == "ab_new"  # LAL row has no id -> latest season with an id


def test_no_games_reports_prop_counts_without_reading_history() -> None:
    inputs = {upgc.SCHEDULE: [game("DEN", "LAL", is_all_star=True)], upgc.BETTINGPROS: [bp_row("A B", "LAL", 12, "DraftKings", 5.5)]}
    result = run(inputs)
    assert (result.outcome, result.reason) == ("NO_GAMES", "no schedule games")
    assert dry_run_line(result.details) == "2023-10-24: 0 games | odds_api 0 players | bettingpros 1 players (both 0) -> 0 players available (no schedule games)"
    assert log_line(result.details) == "2023-10-24: 0 players - no schedule games"


def test_data_hash_ignores_the_run_timestamp_but_not_content() -> None:
    inputs = {upgc.SCHEDULE: [game("DEN", "LAL")], upgc.BETTINGPROS: [bp_row("A B", "LAL", 12, "DraftKings", 5.5)]}
    first = run(inputs, ts=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)).rows
    second = run(inputs, ts=dt.datetime(2031, 6, 1, tzinfo=dt.timezone.utc)).rows
    assert first["data_hash"].tolist() == second["data_hash"].tolist()
    assert first["processed_at"].iloc[0] != second["processed_at"].iloc[0]
    inputs[upgc.BETTINGPROS][0]["points_line"] = 6.5
    assert run(inputs).rows["data_hash"].iloc[0] != first["data_hash"].iloc[0]
    assert "processed_at" not in upgc.hash_fields() and "source_props_rows_found" not in upgc.hash_fields()
    assert "quality_issues" not in upgc.hash_fields() and "has_prop_line" in upgc.hash_fields()


def test_rows_carry_every_contract_column() -> None:
    result = run({upgc.SCHEDULE: [game("DEN", "LAL")], upgc.BETTINGPROS: [bp_row("A B", "LAL", 12, "DraftKings", 5.5)]})
    assert list(result.rows.columns) == table(upgc.OUTPUT).column_names
    row = result.rows.iloc[0]
    assert row["quality_issues"] == [] and row["player_status"] == "available" and row["has_prop_line"] == True  # noqa: E712


def test_spec_declares_the_contract() -> None:
    spec = upgc.SPEC
    assert (spec.name, spec.phase, spec.output_table, spec.date_column) == (
        "upcoming_player_game_context", 3, "nba_analytics.upcoming_player_game_context", "game_date",
    )
    assert spec.bootstrap_skip is False and spec.upstreams == () and spec.needs_context is False
    windows = {i.table: i.window for i in spec.inputs}
    assert windows[upgc.PGS] == "previous_season_to_date" and windows[upgc.REGISTRY] == "all"
    assert windows[upgc.SCHEDULE] in ("season_to_date", "previous_season_to_date")
    assert spec.wrapper.endswith("upcoming_player_game_context_analytics_backfill.py")


def test_dry_run_summary_counts_outcomes() -> None:
    infos = [
        {"outcome": "ok", "players_available": 57},
        {"outcome": "no_props", "players_available": 0},
        {"outcome": "error", "players_available": 0},
    ]
    assert dry_run_summary(infos) == {
        "dates_processed": 3, "dates_with_players": 1, "players_available": 57,
        "no_props": 1, "no_games": 0, "unresolved": 0, "error": 1,
    }


# --- context rules the examples do not pin down ----------------------------------------------------

@pytest.mark.parametrize(
    ("day", "age"),
    [(dt.date(2023, 2, 28), 26), (dt.date(2023, 3, 1), 27), (dt.date(2024, 2, 28), 27), (dt.date(2024, 2, 29), 28)],
)
def test_age_of_a_leap_day_birthday(day: dt.date, age: int) -> None:
    """Spec 8.G, and the birth date of the latest season_year row wins."""
    from data_processors.analytics.upcoming_player_game_context.context import ages

    players = pd.DataFrame(
        {
            "player_lookup": ["ab", "ab", "ab"],
            "season_year": [2022.0, 2023.0, 2024.0],
            "birth_date": pd.to_datetime(["1990-01-01", "1996-02-29", None]),
            "processed_at": pd.to_datetime(["2023-01-01", "2024-01-01", "2025-01-01"], utc=True),
        }
    )
    assert ages(pd.Index(["ab", "zz"]), players, day).tolist()[0] == age
    assert pd.isna(ages(pd.Index(["zz"]), players, day).iloc[0])


def test_rest_counters_when_the_date_itself_follows_a_long_rest() -> None:
    from data_processors.analytics.upcoming_player_game_context.context import player_history

    day = dt.date(2024, 1, 10)
    dates = ["2024-01-06", "2024-01-05", "2024-01-04", "2023-12-20"]
    history = pd.DataFrame(
        {
            "player_lookup": ["ab"] * 4, "game_id": [f"g{i}" for i in range(4)], "game_date": pd.to_datetime(dates),
            "team_abbr": ["BOS"] * 4, "points": [10.0, 20.0, 30.0, 40.0], "minutes_played": [20.04, 20.03, 0.0, 30.0],
            "fg_attempts": [10.0] * 4, "fg_makes": [5.0] * 4, "usage_rate": [20.0, None, 30.0, 10.0],
            "over_under_result": ["UNDER", "UNDER", "OVER", "UNDER"], "is_active": pd.array([True, True, True, True], dtype="boolean"),
            "processed_at": pd.to_datetime(["2024-01-07"] * 4, utc=True),
        }
    )
    h = player_history(history, ["ab"], day).loc["ab"]
    assert h["days_rest"] == 4 and h["days_since_2_plus_days_rest"] == 0  # (D, 01-06) is already a 2+ day rest
    assert h["days_rest_before_last_game"] == 1 and h["back_to_back"] == False  # noqa: E712
    assert h["back_to_backs_last_14_days"] == 1  # the 0-minute 01-04 row is not an appearance
    assert (h["games_in_last_7_days"], h["minutes_in_last_7_days"], h["avg_minutes_per_game_last_7"]) == (2, 40, 20.035)
    assert (h["prop_under_streak"], h["prop_over_streak"]) == (2, 0)
    assert h["avg_usage_rate_last_7_games"] == 15.0 and h["points_avg_last_5"] == (10 + 20 + 40) / 3
    assert pd.isna(h["shooting_pct_decline_last_5"]) and h["source_boxscore_rows_found"] == 4


def test_playoff_game_sets_the_season_phase() -> None:
    day = dt.date(2024, 4, 20)
    schedule = [game("DEN", "LAL", day=day, nba_id="0042300101", is_regular_season=False, is_playoffs=True)]
    bp = [bp_row("A B", "LAL", 12, "DraftKings", 5.5, game_date=day.isoformat())]
    row = by_player(run({upgc.SCHEDULE: schedule, upgc.BETTINGPROS: bp}, day=day))["ab"]
    assert row["season_phase"] == "playoffs" and row["game_id"] == "20240420_LAL_DEN"
    assert row["season_boundary_detected"] == True and row["backfill_bootstrap_mode"] == False  # noqa: E712
