"""`phase3 run`: the Phase 3 upcoming_player_game_context processor on the same runner."""
from __future__ import annotations

import typer

from nba_backfill.cli._run import run_command

app = typer.Typer(help="Phase 3 analytics backfill (upcoming_player_game_context).", no_args_is_help=True)

app.command("run")(run_command(3, """Build upcoming_player_game_context day by day (Odds API props, BettingPros fallback per player).

    Without --processor it runs every Phase 3 processor (today: upcoming_player_game_context).

    Example:
        nba-backfill phase3 run --processor upcoming_player_game_context --start-date 2021-10-19 --end-date 2022-06-16
    """))
