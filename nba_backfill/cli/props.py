"""`props check`: per date, which props sources have players and how many players Phase 3 can use."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from nba_backfill import console
from nba_backfill.cli import _options as o
from nba_backfill.engine.status import game_dates
from nba_backfill.registry import default_registry

app = typer.Typer(help="Props availability (Odds API vs BettingPros).", no_args_is_help=True)


@app.command("check")
@o.handle_errors
def check(
    ctx: typer.Context,
    date: Annotated[Optional[str], typer.Option("--date", help="One date (YYYY-MM-DD) or several, comma-separated.")] = None,
    start_date: o.StartDate = None, end_date: o.EndDate = None) -> None:
    """Schedule games, Odds API players, BettingPros players and players available per date.

    Example:
        nba-backfill props check --date 2021-11-01
    """
    from nba_backfill.cli.dry_run import props_availability, render_availability

    app = o.app_context(ctx)
    first, last, days = o.resolve_dates(start_date, end_date, date, allow_today=True)
    wanted = list(days) if days else game_dates(app.warehouse(), first, last)
    rows = props_availability(app.warehouse(), default_registry(), wanted)
    if app.settings.json:
        console.emit_json(rows)
    else:
        render_availability(rows)
