"""Time one processor's compute() per date on a real sample warehouse, as the engine calls it.

Usage: python benchmarks/profile_processor.py WAREHOUSE_URL PROCESSOR [--start D --end D] [--profile]
The warehouse must already hold the processor's inputs (e.g. after scripts/sample_backfill.sh).
Prints median / p95 / total ms of compute() over the game dates, excluding loading.
`--dump FILE` saves every date's result (outcome, reason, skipped, rows without bookkeeping
columns); `--compare FILE` checks today's results against such a dump, value for value:
how an optimisation shows it changed no output on a whole season.
"""
from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import pickle
import pstats
import statistics
import time

import pandas as pd

from nba_backfill.engine.loader import BlockInputs
from nba_backfill.engine.plan import season_blocks
from nba_backfill.engine.status import game_dates
from nba_backfill.registry import default_registry
from nba_backfill.warehouse import connect


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("warehouse")
    parser.add_argument("processor")
    parser.add_argument("--start", default="2021-10-26")
    parser.add_argument("--end", default="2022-06-16")
    parser.add_argument("--profile", action="store_true", help="print the top cProfile entries")
    parser.add_argument("--dump", help="save every date's result to this pickle")
    parser.add_argument("--compare", help="compare every date's result with this pickle (from --dump)")
    args = parser.parse_args()
    spec = default_registry().get(args.processor)
    wh = connect(args.warehouse)
    days = game_dates(wh, dt.date.fromisoformat(args.start), dt.date.fromisoformat(args.end))
    timings: list[float] = []
    outcomes: dict[str, int] = {}
    results: dict[dt.date, tuple] = {}
    prof = cProfile.Profile() if args.profile else None
    cpu0 = time.process_time()
    for block in season_blocks(days):
        inputs = BlockInputs(wh, spec, block)
        for day in block:
            frames = inputs.for_date(day)
            t0 = time.perf_counter()
            if prof:
                prof.enable()
            result = spec.compute(day, frames, dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc))
            if prof:
                prof.disable()
            timings.append((time.perf_counter() - t0) * 1000)
            outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
            if args.dump or args.compare:
                results[day] = _comparable(result)
    cpu = time.process_time() - cpu0  # incl. loading; steadier than wall time on a busy machine
    timings.sort()
    print(f"{args.processor}: {len(timings)} dates, median {statistics.median(timings):.1f} ms, "
          f"p95 {timings[int(0.95 * (len(timings) - 1))]:.1f} ms, total {sum(timings) / 1000:.1f} s, outcomes {outcomes}; CPU incl. loads {cpu:.1f} s")
    if prof:
        pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
    if args.dump:
        with open(args.dump, "wb") as fh:
            pickle.dump(results, fh)
    if args.compare:
        with open(args.compare, "rb") as fh:
            before = pickle.load(fh)
        differing = [d for d in sorted(set(before) | set(results)) if not _same(before.get(d), results.get(d))]
        print(f"compare: {len(results)} dates, {len(differing)} differ" + (f": first {differing[:5]}" if differing else ""))
        if differing:
            raise SystemExit(1)


BOOKKEEPING = ("processed_at", "created_at")


def _comparable(result) -> tuple:
    """A result as plain data: outcome, reason, skipped entries, rows (bookkeeping columns dropped)."""
    rows = result.rows.drop(columns=[c for c in result.rows.columns if c in BOOKKEEPING or c.endswith("_last_updated")])
    skipped = [(s.entity_id, s.category, s.reason) for s in result.skipped]
    return result.outcome, result.reason, skipped, rows.reset_index(drop=True)


def _same(a, b) -> bool:
    """Equal outcome, reason and skipped; rows equal value for value, with the same columns and dtypes."""
    if a is None or b is None:
        return a is b
    if a[:3] != b[:3]:
        return False
    try:
        pd.testing.assert_frame_equal(a[3], b[3], check_exact=True)
    except AssertionError:
        return False
    return True


if __name__ == "__main__":
    main()
