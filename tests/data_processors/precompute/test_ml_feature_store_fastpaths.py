"""The ml_feature_store shortcuts (dict key lookup, direct season array) agree with the general rules."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from data_processors.precompute import conventions as cv
from data_processors.precompute.keyed_history import row_season_array
from data_processors.precompute.ml_feature_store.ml_feature_store_processor import UPSTREAMS, upstream_positions

D = dt.date(2024, 12, 1)
TD = next(u for u in UPSTREAMS if u.prefix == "td")


def _defense(teams: list[object], dates: list[dt.date]) -> pd.DataFrame:
    return pd.DataFrame({"team_abbr": pd.Series(teams, dtype=object), "analysis_date": pd.to_datetime(dates),
                         "processed_at": pd.to_datetime(["2024-12-01"] * len(teams), utc=True)})


def test_text_keys_match_by_value_and_skip_other_dates() -> None:
    df = _defense(["BOS", "LAL", "NYK", None], [D, D, D - dt.timedelta(days=1), D])
    wanted = np.array(["LAL", None, "NYK", "BOS", "XXX"], dtype=object)
    assert upstream_positions(df, TD, D, wanted).tolist() == [1, -1, -1, 0, -1]


def test_repeated_keys_take_the_general_rule() -> None:
    df = _defense(["BOS", "BOS", "LAL"], [D, D, D])
    df["processed_at"] = pd.to_datetime(["2024-12-01", "2024-12-02", "2024-12-01"], utc=True)
    wanted = np.array(["BOS", "LAL"], dtype=object)
    assert upstream_positions(df, TD, D, wanted).tolist() == [1, 2]


def test_seasons_equal_row_seasons() -> None:
    dates = pd.to_datetime(["2024-11-01", "2025-03-01", "2023-12-25"])
    full = pd.DataFrame({"season_year": [2024.0, 2024.0, 2023.0], "game_date": dates})
    gaps = pd.DataFrame({"season_year": [2024.0, np.nan, np.nan], "game_date": dates})
    for df in (full, gaps, full.drop(columns="season_year")):
        np.testing.assert_array_equal(row_season_array(df), cv.row_seasons(df).to_numpy())
