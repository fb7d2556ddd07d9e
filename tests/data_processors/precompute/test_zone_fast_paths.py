"""The zone processors' array shortcuts agree with the general helpers they stand in for."""
from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest

from data_processors.precompute import conventions as cv
from data_processors.precompute.player_shot_zone_analysis import player_shot_zone_analysis_processor as psza
from data_processors.precompute.team_defense_zone_analysis import team_defense_zone_analysis_processor as tdza
from shot_zone_rows import player_game as pgs_row

RUN_TS = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
D = dt.date(2025, 1, 20)


def random_keys(rng: np.random.Generator, grouped: bool) -> np.ndarray:
    names = np.array([f"p{i:03d}" for i in rng.choice(500, size=int(rng.integers(1, 40)), replace=False)], dtype=object)
    keys = np.repeat(names, rng.integers(1, 8, size=len(names)))
    if grouped:
        return np.sort(keys)
    return keys[rng.permutation(len(keys))]


@pytest.mark.parametrize("grouped", [True, False])
def test_players_match_a_sorted_factorization(grouped: bool) -> None:
    rng = np.random.default_rng(5)
    for _ in range(50):
        keys = random_keys(rng, grouped)
        codes, universe, heads = psza._players(keys)
        want_codes, want_uniques = pd.factorize(keys, sort=True)
        assert codes.tolist() == want_codes.tolist()
        assert universe == list(want_uniques)
        assert heads.tolist() == [int(np.flatnonzero(want_codes == c)[0]) for c in range(len(universe))]


def test_players_report_null_keys() -> None:
    codes, _, _ = psza._players(np.array(["a", "a", None], dtype=object))
    assert codes is None


@pytest.mark.parametrize("grouped", [True, False])
def test_grouped_sums_equal_entity_sums(grouped: bool) -> None:
    rng = np.random.default_rng(7)
    for _ in range(100):
        n = int(rng.integers(1, 30))
        codes = rng.integers(0, n, size=int(rng.integers(1, 300)))
        codes = np.sort(codes) if grouped else codes
        values = rng.integers(0, 40, size=(len(codes), 5)).astype("float64")
        values[rng.random(values.shape) < 0.1] = np.nan
        got = psza._grouped_sums(codes, values, n)
        assert np.array_equal(got, cv.entity_sums(codes, np.ones(len(codes), dtype=bool), values, n))


def test_vectorized_labels_equal_the_scalar_rules() -> None:
    n = np.arange(0, 25)
    for window in (10, 20):
        assert psza.sample_qualities(n, window).tolist() == [psza.sample_quality(int(x), window) for x in n]
    assert psza.quality_tiers(n).tolist() == [psza.quality_tier(int(x)) for x in n]


def test_completeness_ignores_rows_before_every_window() -> None:
    rng = np.random.default_rng(11)
    days = pd.date_range("2024-10-22", periods=90).to_numpy()
    teams = ["BOS", "NYK", "LAL", "MIA"]
    for _ in range(20):
        sched = pd.DataFrame({"team": rng.choice(teams, 200), "game_date": rng.choice(days, 200)}).drop_duplicates()
        sched = sched.sort_values(["team", "game_date"], ascending=[True, False]).reset_index(drop=True)
        players = np.array([f"p{i}" for i in range(12)], dtype=object)
        ent = pd.DataFrame({"entity": players, "team": rng.choice(teams, len(players)).astype(object)}, dtype=object)
        keys = rng.choice(players, 400)
        dates = rng.choice(days, 400)
        keep = psza._window_rows(sched, 10, dates)
        assert not keep.all()  # the filter does drop rows here, so the comparison means something
        full = cv.completeness(ent, pd.DataFrame({"entity": keys, "game_date": dates}), sched, day=D, last_games=10)
        part = cv.completeness(ent, pd.DataFrame({"entity": keys[keep], "game_date": dates[keep]}), sched, day=D,
                               last_games=10)  # fmt: skip
        pd.testing.assert_frame_equal(full, part)




def schedule(dates: list[dt.date]) -> list[dict[str, Any]]:
    rows = [dict(game_date=d, season_year=2024, home_team_tricode="BOS", away_team_tricode="NYK", game_status=3,
                 is_regular_season=True, is_playoffs=False) for d in dates]  # fmt: skip
    rows.append(dict(game_date=dt.date(2024, 10, 22), season_year=2024, home_team_tricode="XXA",
                     away_team_tricode="XXB", game_status=1, is_regular_season=True, is_playoffs=False))  # fmt: skip
    return rows


def game_dates(n: int) -> list[dt.date]:
    return [dt.date(2024, 11, 1) + dt.timedelta(days=2 * i) for i in range(n)]


def same_result(a: Any, b: Any) -> None:
    assert (a.outcome, a.reason, a.entities_eligible) == (b.outcome, b.reason, b.entities_eligible)
    assert [(s.entity_id, s.reason) for s in a.skipped] == [(s.entity_id, s.reason) for s in b.skipped]
    pd.testing.assert_frame_equal(a.rows, b.rows, check_exact=True)


def test_null_players_are_dropped_like_absent_rows() -> None:
    dates = game_dates(14)
    rows = [pgs_row(p, d, paint_attempts=i % 4) for i, d in enumerate(dates) for p in ("a", "b")]
    nulls = [pgs_row(None, d, universal_player_id=None) for d in dates[:5]]
    with_nulls = psza.compute(D, {psza.PGS: rows + nulls, psza.SCHEDULE: schedule(dates)}, RUN_TS)
    without = psza.compute(D, {psza.PGS: rows, psza.SCHEDULE: schedule(dates)}, RUN_TS)
    assert with_nulls.outcome == "COMPLETE"
    same_result(with_nulls, without)


def test_universal_player_id_is_the_newest_known_one() -> None:
    dates = game_dates(12)
    rows = [pgs_row("a", d, universal_player_id=f"a_{i:03d}") for i, d in enumerate(dates)]
    rows[-1]["universal_player_id"] = None  # a's newest row
    rows += [pgs_row("b", d) for d in dates]
    result = psza.compute(D, {psza.PGS: rows, psza.SCHEDULE: schedule(dates)}, RUN_TS)
    ids = dict(zip(result.rows["player_lookup"], result.rows["universal_player_id"]))
    assert ids == {"a": f"a_{len(dates) - 2:03d}", "b": "b_001"}


@pytest.mark.parametrize("shuffled", [True, False])
def test_team_history_rows_match_the_shared_history(shuffled: bool) -> None:
    """Same rows, order and teams as `history` (NULL teams dropped), with repeated (team, date)
    rows, other seasons, rows on or after D and before opening night in the frame."""
    from nba_backfill.frames import normalize_frame
    from nba_backfill.tables import table

    rng = np.random.default_rng(11)
    dates = [dt.date(2024, 10, 15) + dt.timedelta(days=int(i)) for i in range(0, 110, 3)]
    sched = normalize_frame(pd.DataFrame(schedule(dates)), table(tdza.SCHEDULE))
    for _ in range(30):
        n = int(rng.integers(1, 120))
        teams = rng.choice(np.array(["BOS", "NYK", "LAL", "MIA", None], dtype=object), n)
        rows = [tdgs_row(t, dates[int(rng.integers(len(dates)))], game_id=f"g{int(rng.integers(3))}",
                         season_year=int(rng.choice([2023, 2024, 2024, 2024])),
                         processed_at=f"2025-01-{int(rng.integers(10, 13))}T08:00:00Z") for t in teams]  # fmt: skip
        frame = pd.DataFrame(rows)
        frame = frame.iloc[rng.permutation(n)] if shuffled else frame
        frame = normalize_frame(frame.reset_index(drop=True), table(tdza.TDGS))
        opening = cv.opening_night(sched, 2024)
        got, codes, names = tdza.history_rows(frame, D, opening, sched)
        want = cv.history(frame, tdza.KEY, D, sched)
        want = want[want[tdza.KEY].notna()]
        assert got.tolist() == want.index.tolist()
        assert names == sorted(set(want[tdza.KEY].tolist()))
        assert [names[c] for c in codes.tolist()] == want[tdza.KEY].tolist()


def test_league_averages_do_not_depend_on_teams_without_rows() -> None:
    """Codes over a wider sorted universe (teams known only from the schedule) give the same averages."""
    rng = np.random.default_rng(2)
    teams = [f"T{t:02d}" for t in range(12)]
    n = 12 * 12
    hist = pd.DataFrame({
        tdza.KEY: np.repeat(teams, 12),
        "game_date": np.tile(pd.date_range(D - dt.timedelta(days=12), periods=12).to_numpy(), 12),
        **{c: rng.integers(1, 30, n).astype(float) for _, m, a in tdza.ZONES for c in (m, a)},
    })  # fmt: skip
    universe = sorted(teams + ["AAA", "MMM", "ZZZ"])
    codes = pd.Index(universe, dtype=object).get_indexer(hist[tdza.KEY].to_numpy(dtype=object))
    cols = [c for _, m, a in tdza.ZONES for c in (m, a)]
    wide = tdza.league_average_arrays(codes, hist["game_date"].to_numpy(), hist[cols].to_numpy(), len(universe), D)
    assert wide == tdza.league_averages(hist, D)
    assert wide[1] is None


def tdgs_row(team: str | None, day: dt.date, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict(
        defending_team_abbr=team, game_id=f"{day:%Y%m%d}_X", game_date=day, season_year=2024,
        opp_paint_makes=20, opp_paint_attempts=40, opp_mid_range_makes=8, opp_mid_range_attempts=20,
        opp_three_pt_makes=12, opp_three_pt_attempts=35, points_in_paint_allowed=40, blocks_paint=2,
        blocks_mid_range=1, blocks_three_pt=0, points_allowed=110, defensive_rating=110.0, opponent_pace=100.0,
        processed_at="2025-01-19T08:00:00Z",
    )  # fmt: skip
    row.update(values)
    return row


def test_null_teams_are_dropped_like_absent_rows() -> None:
    dates = game_dates(17)
    rows = [tdgs_row(t, d, opp_paint_makes=10 + i % 7) for i, d in enumerate(dates) for t in ("BOS", "NYK")]
    nulls = [tdgs_row(None, d) for d in dates[:4]]
    with_nulls = tdza.compute(D, {tdza.TDGS: rows + nulls, tdza.SCHEDULE: schedule(dates)}, RUN_TS)
    without = tdza.compute(D, {tdza.TDGS: rows, tdza.SCHEDULE: schedule(dates)}, RUN_TS)
    assert with_nulls.outcome == "COMPLETE"
    same_result(with_nulls, without)
