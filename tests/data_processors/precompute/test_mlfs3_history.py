"""ml_feature_store history fast paths on loader-like inputs: date-sorted season frames sliced
per date (views of one block), where keyed_history sorts by a radix sort of the codes and
matches keys through the block's cached factorization."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from data_processors.precompute import conventions as cv
from data_processors.precompute import keyed_history as history
from data_processors.precompute.ml_feature_store import ml_feature_store_processor as mlfs
from nba_backfill.frames import normalize_frame
from nba_backfill.tables import table

OPEN = dt.date(2024, 10, 22)
SCHEDULE = normalize_frame(pd.DataFrame([dict(game_id="open", game_date=OPEN.isoformat(), season_year=2024,
                                              home_team_tricode="OKC", away_team_tricode="HOU", game_status=3,
                                              is_regular_season=True, is_playoffs=False)]), table(mlfs.SCHEDULE))


def sorted_pgs(seed: int, n: int = 600, players: tuple[str | None, ...] = ("a", "b", "c", "d", "e"),
               unique: bool = False) -> pd.DataFrame:
    """A season block in date order, as the loader keeps it; some repeated (player, date) pairs
    unless `unique` (then the radix order is the one returned)."""
    rng = np.random.default_rng(seed)
    days = np.sort(rng.integers(-5, 100, n))
    frame = pd.DataFrame({
        "player_lookup": rng.choice(np.array(players, dtype=object), n),
        "game_id": rng.choice(["g1", "g2"], n),
        "game_date": [(OPEN + dt.timedelta(days=int(k))).isoformat() for k in days],
        "season_year": 2024.0,
        "processed_at": pd.to_datetime("2025-01-01", utc=True) + pd.to_timedelta(rng.integers(0, 4, n), unit="h"),
        "points": rng.integers(0, 40, n).astype(float),
    })
    if unique:
        frame = frame.drop_duplicates(["player_lookup", "game_date"]).reset_index(drop=True)
    return normalize_frame(frame, table(mlfs.PGS))


def reference(pgs: pd.DataFrame, wanted: np.ndarray, day: dt.date) -> dict[str, list[int]]:
    ref = cv.history(pgs, "player_lookup", day, SCHEDULE)
    return {key: ref.index[ref["player_lookup"] == key].tolist() for key in wanted}


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("unique", [False, True])
def test_keyed_history_on_date_slices_of_one_block(seed: int, unique: bool) -> None:
    block = sorted_pgs(seed, unique=unique)
    wanted = np.array(["d", "b", "zz", "a"], dtype=object)
    dates = block["game_date"].to_numpy()
    for k, day in enumerate((dt.date(2024, 11, 20), dt.date(2025, 1, 10), dt.date(2025, 2, 1))):
        stop = int(np.searchsorted(dates, np.datetime64(day), side="right")) + 3 * k  # a few rows on or after D
        view = block.iloc[:stop]
        pos, codes = history.keyed_history(view, "player_lookup", wanted, day, SCHEDULE)
        want = reference(view, wanted, day)
        assert sum(len(v) for v in want.values()) > 0
        for i, key in enumerate(wanted):
            assert pos[codes == i].tolist() == want[key], (day, key)
        assert np.all(np.diff(codes) >= 0)  # grouped by ascending code


def test_key_codes_uses_the_block_and_matches_lookup() -> None:
    block = sorted_pgs(7)
    column = history.objects(block["player_lookup"])
    wanted = np.array(["c", "a", "nobody"], dtype=object)
    for stop in (0, 1, 250, len(block)):
        view = history.objects(block.iloc[:stop]["player_lookup"])
        assert history.key_codes(view, wanted).tolist() == history.lookup(wanted, view).tolist()
    assert any(entry[0]() is column.base for entry in history._BLOCK_CODES.values())


def test_key_codes_with_null_keys_or_changed_blocks_takes_the_plain_lookup() -> None:
    block = sorted_pgs(3, players=("a", "b", None))
    wanted = np.array(["b", "a"], dtype=object)
    view = history.objects(block.iloc[:300]["player_lookup"])
    assert history.key_codes(view, wanted).tolist() == history.lookup(wanted, view).tolist()
    values = np.array(["a", "b", "c", "a"] * 5, dtype=object)
    part = values[2:15]
    first = history.key_codes(part, wanted)
    values[4] = "b"  # the block changes after its factorization was kept
    assert history.key_codes(part, wanted).tolist() == history.lookup(wanted, part).tolist() != first.tolist()
