"""The `nba-backfill` command: global options, then one sub-app per command group."""
from __future__ import annotations

import logging
from typing import Annotated, Optional

import typer

from nba_backfill import __version__
from nba_backfill.cli import phase3, phase4, props, sample, verify, warehouse
from nba_backfill.cli._options import AppContext
from nba_backfill.settings import resolve

app = typer.Typer(
    name="nba-backfill",
    help="Backfill the NBA props platform's Phase 3 context and Phase 4 precompute tables, day by day, safely.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
app.add_typer(phase4.app, name="phase4")
app.add_typer(phase3.app, name="phase3")
app.add_typer(props.app, name="props")
app.add_typer(sample.app, name="sample")
app.add_typer(warehouse.app, name="warehouse")
app.command("verify")(verify.verify)


def _version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    warehouse_url: Annotated[Optional[str], typer.Option("--warehouse", help="duckdb:///path (default ./nba_warehouse.duckdb) or bigquery://PROJECT[?location=...]; env NBA_BACKFILL_WAREHOUSE.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout; no human output.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Diagnostics on stderr.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks instead of one-line errors.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = False,
) -> None:
    """Backfill the NBA props platform's Phase 3 and Phase 4 tables.

    Example:
        nba-backfill sample load --seasons 2021-22
        nba-backfill phase4 run --all --start-date 2021-10-19 --end-date 2022-06-16
    """
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = AppContext(resolve(warehouse_url, json_output, verbose, debug))
