"""Time one processor's compute() per date on a real sample warehouse, as the engine calls it.

Usage: python benchmarks/profile_processor.py WAREHOUSE_URL PROCESSOR [--start D --end D] [--profile]
The warehouse must already hold the processor's inputs (e.g. after scripts/sample_backfill.sh).
Prints median / p95 / total ms of compute() over the game dates, excluding loading.
"""
from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import pstats
import statistics
import time

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
    args = parser.parse_args()
    spec = default_registry().get(args.processor)
    wh = connect(args.warehouse)
    days = game_dates(wh, dt.date.fromisoformat(args.start), dt.date.fromisoformat(args.end))
    timings: list[float] = []
    outcomes: dict[str, int] = {}
    prof = cProfile.Profile() if args.profile else None
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
    timings.sort()
    print(f"{args.processor}: {len(timings)} dates, median {statistics.median(timings):.1f} ms, "
          f"p95 {timings[int(0.95 * (len(timings) - 1))]:.1f} ms, total {sum(timings) / 1000:.1f} s, outcomes {outcomes}")
    if prof:
        pstats.Stats(prof).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
