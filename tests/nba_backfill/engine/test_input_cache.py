"""The run-wide input cache and the loader's declared-column frames change no input a processor sees."""
from __future__ import annotations

import datetime as dt

import pandas as pd

from nba_backfill.engine.loader import BlockInputs, InputCache
from nba_backfill.engine.plan import season_blocks
from nba_backfill.engine.status import game_dates
from nba_backfill.frames import read_declared
from nba_backfill.registry import default_registry
from nba_backfill.warehouse import connect

PROCESSORS = ("player_shot_zone_analysis", "player_daily_cache")


def test_cached_blocks_give_every_date_the_same_inputs_from_one_read_per_table(sample_url: str) -> None:
    registry = default_registry()
    specs = [registry.get(p) for p in PROCESSORS]
    wh = connect(sample_url)
    try:
        days = game_dates(wh, dt.date(2021, 11, 1), dt.date(2021, 12, 5))
        blocks = season_blocks(days, 10)
        assert len(blocks) >= 3
        sql: list[str] = []
        query = wh.query
        cache = InputCache(wh, specs, days, written=[registry.get(n).output_table for n in registry.names()])
        for spec in specs:
            for block in blocks:
                wh.query = lambda s, p=None: (sql.append(s), query(s, p))[1]  # type: ignore[method-assign]
                cached = BlockInputs(wh, spec, block, cache)
                wh.query = query  # type: ignore[method-assign]
                plain = BlockInputs(wh, spec, block)
                for day in block:
                    got, want = cached.for_date(day), plain.for_date(day)
                    assert list(got) == list(want)
                    for name in want:
                        pd.testing.assert_frame_equal(got[name], want[name], obj=f"{spec.name} {name} {day}")
                    declared = read_declared(got, spec.inputs)
                    for name, frame in read_declared(want, spec.inputs).items():
                        pd.testing.assert_frame_equal(declared[name], frame)
                        assert declared[name].attrs == {} and isinstance(declared[name].index, pd.RangeIndex)
        shared = ("nba_analytics.player_game_summary", "nba_raw.nbac_schedule", "nba_analytics.team_offense_game_summary")
        for table in shared:
            assert sum(f" FROM {table}" in s for s in sql) == 1, (table, sql)
    finally:
        wh.close()


def test_declared_frames_are_copy_on_write_views(sample_url: str) -> None:
    """A processor changing its input frame changes neither the block nor the next date's slice."""
    spec = default_registry().get("player_shot_zone_analysis")
    wh = connect(sample_url)
    try:
        days = game_dates(wh, dt.date(2021, 11, 1), dt.date(2021, 11, 10))
        inputs = BlockInputs(wh, spec, days)
        table = "nba_analytics.player_game_summary"
        first = read_declared(inputs.for_date(days[-1]), spec.inputs)[table]
        before = inputs.for_date(days[-1])[table].copy()
        first.iloc[:, 0] = None
        first["extra"] = 1
        pd.testing.assert_frame_equal(inputs.for_date(days[-1])[table], before)
    finally:
        wh.close()
