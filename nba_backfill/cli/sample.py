"""`sample load`: fill the embedded warehouse with the deterministic sample data."""
from __future__ import annotations

import time
from typing import Annotated, Optional

import typer

from nba_backfill import console
from nba_backfill.cli import _options as o
from nba_backfill.dates import parse_iso_date, parse_season_label

app = typer.Typer(help="Deterministic sample data for offline runs.", no_args_is_help=True)


@app.command("load")
@o.handle_errors
def load(
    ctx: typer.Context,
    seasons: Annotated[str, typer.Option("--seasons", help="Comma-separated labels, e.g. 2021-22,2022-23.")] = "2021-22,2022-23,2023-24,2024-25",
    seed: Annotated[int, typer.Option("--seed", help="Generator seed.")] = 20211019,
    through: Annotated[Optional[str], typer.Option("--through", help="Stop the data after this date (YYYY-MM-DD).")] = None,
) -> None:
    """Create the tables and load the sample seasons (same seed, same data).

    Example:
        nba-backfill sample load --seasons 2021-22 --through 2021-12-31
    """
    labels = [s for s in (p.strip() for p in seasons.split(",")) if s]
    years = [parse_season_label(s) for s in labels]
    last = parse_iso_date(through) if through else None
    from nba_backfill.sample_data import generate_sample_data

    app_ctx = o.app_context(ctx)
    t0 = time.perf_counter()
    counts = generate_sample_data(app_ctx.warehouse(), years, seed=seed, through=last)
    if app_ctx.settings.json:
        console.emit_json({"seasons": labels, "rows": counts, "seconds": round(time.perf_counter() - t0, 1)})
        return
    for name, n in counts.items():
        console.out.print(f"{name:<48} {n:>9,} rows")
    console.out.print(f"sample data for {', '.join(labels)} loaded in {time.perf_counter() - t0:.1f}s into {app_ctx.warehouse().url}")
