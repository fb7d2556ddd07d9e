"""`phase4 run|status|failures`: the five precompute processors, strictly in order."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from nba_backfill import console
from nba_backfill.cli import _options as o
from nba_backfill.cli._run import run_command

app = typer.Typer(help="Phase 4 precompute backfill: run, status, failures.", no_args_is_help=True)

app.command("run")(run_command(4, """Run Phase 4 processors over a date range, day by day, each processor over the whole range in turn.

    Example:
        nba-backfill phase4 run --all --start-date 2021-10-19 --end-date 2022-06-16
        nba-backfill phase4 run --processor player_daily_cache --dates 2022-01-05,2022-01-07
    """))


@app.command("status")
@o.handle_errors
def status(ctx: typer.Context, start_date: o.StartDate = None, end_date: o.EndDate = None) -> None:
    """Coverage matrix (dates x processors) from the ledger and the warehouse, with totals.

    Example:
        nba-backfill phase4 status --start-date 2021-10-19 --end-date 2022-06-16
    """
    from nba_backfill.cli.status_view import render_status
    from nba_backfill.engine.status import coverage

    app = o.app_context(ctx)
    first, last, _ = o.resolve_dates(start_date, end_date, None, allow_today=True)
    report = coverage(app.warehouse(), first, last)
    if app.settings.json:
        console.emit_json(report.as_dict())
    else:
        render_status(report)


@app.command("failures")
@o.handle_errors
def failures(ctx: typer.Context, run_id: Annotated[Optional[str], typer.Option("--run", help="Only units of this run.")] = None) -> None:
    """The failures table (latest state per unit not done) and the retry commands.

    Example:
        nba-backfill phase4 failures
    """
    from nba_backfill.cli.status_view import render_failures
    from nba_backfill.engine.status import failures as load_failures

    app = o.app_context(ctx)
    report = load_failures(app.warehouse(), run_id)
    if app.settings.json:
        console.emit_json(report)
    else:
        render_failures(report)
