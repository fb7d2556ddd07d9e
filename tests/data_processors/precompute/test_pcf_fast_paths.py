"""player_composite_factors: the array paths give what the one-row reference forms give."""
from __future__ import annotations

import datetime as dt
import itertools
import json

import numpy as np
import pandas as pd
import pytest

from data_processors.precompute.player_composite_factors import context_json as cj
from data_processors.precompute.player_composite_factors import factors as f
from tests.data_processors.precompute.test_player_composite_factors import (
    D, context, defense, game, history, one_row, run, schedule, shot)


def _case(n: int, seed: int, huge: float = 1e15 + 0.5) -> tuple:
    """n rows of factor inputs mixing ties at the 4th decimal, negative zero, big integers and odd text."""
    rng = np.random.default_rng(seed)
    ties = np.array([1.00005, -2.12345, 0.00015, -0.0, 99.99995, 12.34565, 35.0, 35.00001])
    pick = lambda: np.where(rng.random(n) < 0.5, rng.choice(ties, n), rng.normal(0, 40, n))  # noqa: E731
    ctx = {column: pick() for column, _ in f.CONTEXT_DEFAULTS.values()}
    ctx["player_age"] = rng.choice([24.0, 30.0, 35.0, -36.7, huge], n)
    ctx["back_to_back"] = pd.array(rng.choice([True, False, None], n), dtype="boolean")
    used = f.factor_inputs(ctx)
    penalties, bonus = f.fatigue_flags(used)
    fatigue = f.fatigue_score(penalties, bonus)
    texts = np.array(["paint", "perimeter", "mid_range", "balanced", None, 'say "é"\\', np.nan], dtype=object)
    data = {
        "shot_found": rng.random(n) < 0.7,
        "def_found": rng.random(n) < 0.7,
        "shot_primary_scoring_zone": rng.choice(texts, n),
        "def_weakest_zone": rng.choice(texts, n),
    }
    zones = f.zone_used(data["shot_primary_scoring_zone"])
    usage_rate, dv = pick(), pick()
    stored = {"zone": np.round(pick(), 1), "pace": np.round(pick(), 1), "usage": np.round(pick(), 1)}
    return data, used, penalties, bonus, fatigue, zones, usage_rate, dv, stored


@pytest.mark.parametrize("huge", [1e15 + 0.5, 2.0**63 + 2048])  # an int beyond int64 takes another path
@pytest.mark.parametrize("seed", range(4))
def test_context_json_columns_equal_the_one_row_functions(seed: int, huge: float) -> None:
    args = _case(300, seed, huge)
    fast = cj.context_json_columns(cj.JsonInputs(*args))
    reference = cj._json_rows(cj.JsonInputs(*args))
    assert set(fast) == set(f.JSON_COLUMNS)
    for name in f.JSON_COLUMNS:
        assert fast[name] == reference[name], name
        json.loads(fast[name][0])


def test_every_fatigue_label_pattern_is_written_like_json() -> None:
    patterns = np.array(list(itertools.product([False, True], repeat=len(f.FATIGUE_PENALTIES))))
    args = list(_case(len(patterns), 7))
    args[2] = patterns
    fast = cj.context_json_columns(cj.JsonInputs(*args))["fatigue_context_json"]
    labels = [label for label, _ in f.FATIGUE_PENALTIES]
    for text, row in zip(fast, patterns):
        assert json.loads(text)["penalties_applied"] == [lb for lb, hit in zip(labels, row) if hit]
    assert fast == cj._json_rows(cj.JsonInputs(*args))["fatigue_context_json"]


def _raised(fn, *args) -> tuple[type, str]:
    try:
        fn(*args)
    except Exception as exc:  # noqa: BLE001 - the point is which one
        return type(exc), str(exc)
    raise AssertionError("no exception")


def test_numbers_json_cannot_write_raise_as_the_one_row_path_does() -> None:
    args = list(_case(4, 3))
    used = dict(args[1])
    used["projected_usage_rate"] = np.array([1.0, 1e308, 2.0, 3.0])
    used["avg_usage_last_7"] = np.array([1.0, -1e308, 2.0, 3.0])  # the differential overflows to inf
    args[1] = used
    assert _raised(cj.context_json_columns, cj.JsonInputs(*args)) == _raised(cj._json_rows, cj.JsonInputs(*args))
    used["projected_usage_rate"] = np.array([1.0, np.inf, 2.0, 3.0])
    used["avg_usage_last_7"] = np.array([1.0, 2.0, 2.0, 3.0])
    assert _raised(cj.context_json_columns, cj.JsonInputs(*args)) == (ValueError, "non-finite value inf in a context JSON column")


@pytest.mark.parametrize(("dup_processed_at", "expected_id", "expected_counts"), [
    ("2025-01-02T00:00:00Z", "dup_id", (1, 0)),  # the later duplicate wins: team BOS (one final game), its id
    ("2024-12-01T00:00:00Z", None, (10, 10)),  # the earlier duplicate loses: the LAL row and its NULL id stay
])
def test_repeated_history_dates_keep_the_latest_row(dup_processed_at: str, expected_id: str | None,
                                                    expected_counts: tuple[int, int]) -> None:
    pgs = history(days=range(1, 11), universal_player_id=None)
    pgs.append({**pgs[0], "team_abbr": "BOS", "universal_player_id": "dup_id", "game_id": "g1b",
                "processed_at": dup_processed_at})
    row = one_row(ctx=[context(universal_player_id=None)], pgs=pgs)
    assert row["universal_player_id"] == expected_id
    assert (row["expected_games_count"], row["actual_games_count"]) == expected_counts


def test_history_of_several_players_is_kept_apart() -> None:
    pgs = history("p1", days=range(1, 11)) + history("p2", days=range(1, 4), team="GSW", universal_player_id="p2_h")
    pgs += history("p3", days=range(1, 11), team="BOS")  # not a context player
    ctx = [context("p2", universal_player_id=None), context("p1")]
    rows = run(ctx, pgs=pgs).rows
    assert rows["player_lookup"].tolist() == ["p2", "p1"]
    assert rows["universal_player_id"].tolist() == ["p2_h", "p1_001"]
    assert rows["actual_games_count"].tolist() == [3, 10]
    assert rows["expected_games_count"].tolist() == [10, 10]


def test_schedule_rows_without_a_team_take_the_merge_path_with_the_same_counts() -> None:
    sched = schedule(game(D - dt.timedelta(days=3), None, "LAL"), game(D - dt.timedelta(days=40), "GSW", None))
    ctx = [context(), context("p2", team_abbr="GSW", opponent_team_abbr="LAL")]
    pgs = history("p1", days=range(1, 11)) + history("p2", days=range(2, 9), team="GSW")
    rows = run(ctx, pgs=pgs, sched=sched).rows
    assert rows[["expected_games_count", "actual_games_count"]].values.tolist() == [[10, 10], [10, 7]]


def test_a_null_opponent_joins_the_null_team_defense_row_as_the_left_join_did() -> None:
    ctx = [context(), context("p2", opponent_team_abbr=None)]
    defs = [defense(), defense(None, paint_defense_vs_league_avg=4.0)]
    rows = run(ctx, shots=[shot(), shot("p2")], defs=defs).rows
    assert rows["shot_zone_mismatch_score"].tolist() == [0.0, 4.0]
    assert rows["source_team_defense_rows_found"].tolist() == [1, 1]
    rows = run(ctx, shots=[shot(), shot("p2")], defs=[defense()]).rows
    assert rows["source_team_defense_rows_found"].tolist() == [1, 0]
