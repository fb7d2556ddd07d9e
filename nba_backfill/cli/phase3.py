"""`phase3 run`: the Phase 3 upcoming_player_game_context processor on the same runner."""
from __future__ import annotations

from typing import Annotated

import typer

from nba_backfill.cli import _options as o
from nba_backfill.cli._run import run_processors
from nba_backfill.registry import CONTEXT_PROCESSOR

app = typer.Typer(help="Phase 3 analytics backfill (upcoming_player_game_context).", no_args_is_help=True)


@app.command("run")
@o.handle_errors
def run(
    ctx: typer.Context,
    processor: Annotated[str, typer.Option("--processor", "-p", help="Phase 3 processor.")] = CONTEXT_PROCESSOR,
    start_date: o.StartDate = None,
    end_date: o.EndDate = None,
    dates: o.Dates = None,
    dry_run: o.DryRun = False,
    force: o.Force = False,
    retry_failed: o.RetryFailed = False,
    fail_fast: o.FailFast = 5,
    skip_preflight: o.SkipPreflight = False,
) -> None:
    """Build upcoming_player_game_context day by day (Odds API props, BettingPros fallback per player).

    Example:
        nba-backfill phase3 run --processor upcoming_player_game_context --start-date 2021-10-19 --end-date 2022-06-16
    """
    run_processors(o.app_context(ctx), 3, [processor], False, start_date, end_date, dates, dry_run=dry_run, force=force,
                   retry_failed=retry_failed, fail_fast=fail_fast, skip_preflight=skip_preflight)
