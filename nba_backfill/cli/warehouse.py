"""`warehouse init`: create datasets and tables from the registry."""
from __future__ import annotations

import typer

from nba_backfill import console
from nba_backfill.cli import _options as o
from nba_backfill.tables import TABLES

app = typer.Typer(help="Warehouse setup.", no_args_is_help=True)


@app.command("init")
@o.handle_errors
def init(ctx: typer.Context) -> None:
    """Create every dataset and table of the contract plus the ledger (harmless to repeat).

    Example:
        nba-backfill --warehouse bigquery://nba-props-platform warehouse init
    """
    app_ctx = o.app_context(ctx)
    wh = app_ctx.warehouse()
    wh.create_tables(TABLES.values())
    if app_ctx.settings.json:
        console.emit_json({"warehouse": wh.url, "tables": sorted(TABLES)})
    else:
        console.out.print(f"{len(TABLES)} tables ready in {wh.url}")
