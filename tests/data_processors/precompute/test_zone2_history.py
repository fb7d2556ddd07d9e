"""player_shot_zone_analysis' array history gives the shared `history_positions` rows and order."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from data_processors.precompute import conventions as cv
from data_processors.precompute.player_shot_zone_analysis import player_shot_zone_analysis_processor as psza
from nba_backfill.frames import normalize_frame
from nba_backfill.tables import table

D = dt.date(2025, 1, 20)


def schedule_frame() -> pd.DataFrame:
    days = [dt.date(2024, 10, 22) + dt.timedelta(days=i) for i in range(100)]
    rows = [dict(game_date=d, season_year=2024, home_team_tricode="BOS", away_team_tricode="NYK", game_status=3,
                 is_regular_season=True, is_playoffs=False) for d in days]  # fmt: skip
    return normalize_frame(pd.DataFrame(rows), table(psza.SCHEDULE), columns=psza.SCHEDULE_COLUMNS)


def games_frame(rng: np.random.Generator, sort_by_date: bool, nulls: bool) -> pd.DataFrame:
    n = int(rng.integers(5, 400))
    players = np.array([f"p{i:02d}" for i in rng.choice(60, size=int(rng.integers(1, 20)), replace=False)], dtype=object)
    keys = rng.choice(players, n).astype(object)
    if nulls:
        keys[rng.random(n) < 0.1] = None
    days = pd.Timestamp("2024-10-10") + pd.to_timedelta(rng.integers(0, 110, n), unit="D")  # some before opening / after D
    stamps = pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 3, n), unit="h")
    frame = pd.DataFrame({
        "player_lookup": keys, "game_id": [f"g{int(x)}" for x in rng.integers(0, 5, n)], "game_date": days,
        "season_year": np.where(rng.random(n) < 0.05, 2023, 2024), "processed_at": stamps,
    })  # fmt: skip
    if sort_by_date:
        frame = frame.sort_values("game_date", kind="mergesort").reset_index(drop=True)
    return normalize_frame(frame, table(psza.PGS), columns=list(frame.columns))


@pytest.mark.parametrize("sort_by_date", [True, False])
@pytest.mark.parametrize("nulls", [False, True])
def test_history_matches_history_positions(sort_by_date: bool, nulls: bool) -> None:
    rng = np.random.default_rng(17)
    sched = schedule_frame()
    repeats = 0
    for _ in range(60):
        games = games_frame(rng, sort_by_date, nulls)
        got = psza._history(games, D, sched)
        assert got is not None
        pos, codes, universe, heads = got
        want = cv.history_positions(games, "player_lookup", D, sched)
        want = want[want["player_lookup"].notna()]
        assert pos.tolist() == want.index.tolist()
        assert [universe[c] for c in codes] == want["player_lookup"].tolist()
        assert universe == sorted(set(want["player_lookup"]))
        assert heads.tolist() == [i for i, c in enumerate(codes.tolist()) if i == 0 or codes[i - 1] != c]
        keys = games["player_lookup"].to_numpy(dtype=object)
        pairs = pd.DataFrame({"k": keys, "d": games["game_date"]}).dropna()
        repeats += int(pairs.duplicated().any())
    assert repeats > 10  # the de-duplication path ran
