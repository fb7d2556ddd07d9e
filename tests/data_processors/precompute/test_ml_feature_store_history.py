"""ml_feature_store's array-based joins agree with the frame-based rules they replace.

Random season-to-date frames with repeated (key, date) rows, NULL processed_at / game_id,
other seasons and dates on or after D: the fast paths must keep the same rows as
`conventions.history`, `dedup_latest` and a sort + drop_duplicates.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from data_processors.precompute import conventions as cv
from data_processors.precompute.ml_feature_store import ml_feature_store_processor as mlfs
from data_processors.precompute.ml_feature_store.features import (
    DEFAULT, PHASE3, PHASE4, TAG_WEIGHTS, TAGS, quality_and_source, quality_from_codes)
from data_processors.precompute.keyed_history import keyed_history
from nba_backfill.frames import normalize_frame
from nba_backfill.tables import table

D = dt.date(2025, 1, 15)
SCHEDULE = normalize_frame(pd.DataFrame([dict(game_id="open", game_date="2024-10-22", season_year=2024,
                                              home_team_tricode="OKC", away_team_tricode="HOU", game_status=3,
                                              is_regular_season=True, is_playoffs=False)]), table(mlfs.SCHEDULE))


def random_pgs(seed: int, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = rng.integers(-120, 3, n)  # some rows on or after D, some before opening night
    stamps = pd.to_datetime("2025-01-01", utc=True) + pd.to_timedelta(rng.integers(0, 4, n), unit="h")
    frame = pd.DataFrame({
        "player_lookup": rng.choice(["a", "b", "c", "d", "e", None], n),
        "game_id": rng.choice(["g1", "g2", None], n),
        "game_date": [(D + dt.timedelta(days=int(k))).isoformat() for k in days],
        "season_year": rng.choice([2024.0, 2024.0, 2023.0, np.nan], n),
        "processed_at": stamps.where(rng.random(n) > 0.2),
        "points": rng.integers(0, 40, n).astype(float),
    })
    frame.loc[::7, "game_date"] = frame["game_date"].shift(1)[::7]  # extra repeated (player, date) pairs
    return normalize_frame(frame, table(mlfs.PGS))


@pytest.mark.parametrize("seed", range(6))
def test_keyed_history_keeps_the_rows_of_conventions_history(seed: int) -> None:
    pgs = random_pgs(seed)
    wanted = np.array(["b", "d", "a", "zz"], dtype=object)
    pos, codes = keyed_history(pgs, "player_lookup", wanted, D, SCHEDULE)
    ref = cv.history(pgs, "player_lookup", D, SCHEDULE)
    ref = ref[ref["player_lookup"].isin(wanted)]
    assert len(ref) > 0
    for i, key in enumerate(wanted):
        want = ref.index[ref["player_lookup"] == key].to_numpy()
        assert list(pos[codes == i]) == list(want), key  # same rows, newest first
    assert sorted(pos) == sorted(ref.index)


@pytest.mark.parametrize("seed", range(6))
def test_upstream_positions_pick_the_latest_row_of_d_per_key(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n = 60
    stamps = pd.to_datetime("2025-01-15", utc=True) + pd.to_timedelta(rng.integers(0, 3, n), unit="h")
    frame = normalize_frame(pd.DataFrame({
        "player_lookup": rng.choice(["a", "b", "c", "d", None], n),
        "cache_date": rng.choice([D.isoformat(), "2025-01-14"], n),
        "processed_at": stamps.where(rng.random(n) > 0.3),
    }), table(mlfs.DAILY_CACHE))
    up = mlfs.UPSTREAMS[0]
    wanted = np.array(["a", "b", "c", "d", "x", None], dtype=object)
    at = mlfs.upstream_positions(frame, up, D, wanted)
    rows = frame[(frame["cache_date"] == pd.Timestamp(D)) & frame["player_lookup"].notna()]
    rows = rows.sort_values("processed_at", ascending=False, na_position="last", kind="mergesort")
    ref = rows.drop_duplicates(subset=["player_lookup"], keep="first")
    want = pd.Index(ref["player_lookup"]).get_indexer(wanted)
    assert list(at) == [ref.index[w] if w >= 0 else -1 for w in want]


def test_context_rows_dedup_and_sort_like_the_frame_rules() -> None:
    rng = np.random.default_rng(7)
    n = 40
    ctx = normalize_frame(pd.DataFrame({
        "player_lookup": rng.choice(["e", "a", "c", "b"], n),
        "game_id": rng.choice(["g1", "g2", None], n),
        "game_date": rng.choice([D.isoformat(), "2025-01-14"], n),
        "processed_at": (pd.to_datetime("2025-01-15", utc=True)
                         + pd.to_timedelta(rng.integers(0, 3, n), unit="h")).where(rng.random(n) > 0.3),
    }), table(mlfs.CONTEXT))
    on_day = ctx[ctx["game_date"] == pd.Timestamp(D)]
    ref = cv.dedup_latest(on_day, "player_lookup").sort_values("player_lookup", kind="mergesort")
    assert list(mlfs.context_rows(ctx, D)) == list(ref.index)


def test_quality_from_codes_matches_the_tag_weights() -> None:
    rng = np.random.default_rng(3)
    codes = rng.integers(0, len(TAGS), (50, 25)).astype("int8")
    codes[0] = 0  # all phase4
    codes[1] = np.r_[np.ones(13), np.full(12, 3)]  # 13 phase3 tags, 12 defaults
    tags = TAGS[codes]
    score, source = quality_from_codes(codes)
    weights = np.vectorize(TAG_WEIGHTS.__getitem__, otypes=["float64"])(tags)
    assert np.array_equal(score, weights.sum(axis=1) / 25)
    s4, s3 = (tags == PHASE4).sum(axis=1) / 25, (tags == PHASE3).sum(axis=1) / 25
    want = np.select([s4 >= 0.90, s4 >= 0.50, s3 >= 0.50], ["phase4", "phase4_partial", "phase3"], "mixed")
    assert source == want.tolist() and source[:2] == [PHASE4, PHASE3]
    text_score, text_source = quality_and_source(tags)
    assert np.array_equal(text_score, score) and text_source == source
    with pytest.raises(KeyError):
        quality_and_source(np.array([[PHASE4, "unknown"]], dtype=object))
    assert DEFAULT in set(tags.ravel())
