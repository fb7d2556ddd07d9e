"""The body shared by `phase3 run` and `phase4 run`: validate, run the engine, render, exit code."""
from __future__ import annotations

import shlex
import sys
from collections.abc import Callable
from typing import Annotated, Optional

import typer

from nba_backfill import console
from nba_backfill.cli import _options as o
from nba_backfill.cli._options import AppContext, resolve_dates
from nba_backfill.engine.runner import RunRequest, Runner
from nba_backfill.errors import UsageError
from nba_backfill.registry import default_registry


def run_processors(app: AppContext, phase: int, processors: list[str] | None, all_: bool, start: str | None,
                   end: str | None, dates: str | None, *, dry_run: bool, force: bool, retry_failed: bool,
                   fail_fast: int, skip_preflight: bool) -> None:
    """Run the selected processors of one phase and exit with the engine spec's code."""
    registry = default_registry()
    if all_ and processors:
        raise UsageError("give either --all or --processor, not both")
    names = registry.names(phase) if all_ or (phase == 3 and not processors) else list(processors or [])
    if not names:
        raise UsageError(f"choose processors: --all, or --processor NAME (one of {', '.join(registry.names(phase))})")
    for n in names:
        if registry.get(n).phase != phase:
            raise UsageError(f"{n} is a Phase {registry.get(n).phase} processor: use `nba-backfill phase{registry.get(n).phase} run`")
    first, last, days = resolve_dates(start, end, dates)
    request = RunRequest(
        processors=tuple(registry.ordered(names)), start=first, end=last, dates=days, force=force,
        retry_failed=retry_failed, dry_run=dry_run, skip_preflight=skip_preflight, fail_fast=fail_fast,
        command=shlex.join(["nba-backfill", *sys.argv[1:]]),
    )
    progress = console.RichProgress(enabled=not app.settings.json and not dry_run)
    runner = Runner(app.warehouse(), registry, progress)
    try:
        summary = runner.run(request)
    finally:
        progress.close()
    if dry_run:
        from nba_backfill.cli.dry_run import availability_report

        report = availability_report(app.warehouse(), registry, request, summary)
    else:
        report = None
    if app.settings.json:
        data = summary.as_dict()
        if report is not None:
            data["availability"] = report
        console.emit_json(data)
    else:
        console.render_summary(summary)
        if report is not None:
            from nba_backfill.cli.dry_run import render_availability

            render_availability(report)
    raise typer.Exit(0 if dry_run else summary.exit_code())


Processor = Annotated[Optional[list[str]], typer.Option("--processor", "-p", help="Processor to run (repeatable).")]
All = Annotated[bool, typer.Option("--all", help="All processors of the phase, in registry order.")]


def run_command(phase: int, doc: str) -> Callable[..., None]:
    """The `phaseN run` command: one definition of the options for both phases."""

    @o.handle_errors
    def run(
        ctx: typer.Context,
        all_: All = False,
        processor: Processor = None,
        start_date: o.StartDate = None,
        end_date: o.EndDate = None,
        dates: o.Dates = None,
        dry_run: o.DryRun = False,
        force: o.Force = False,
        retry_failed: o.RetryFailed = False,
        fail_fast: o.FailFast = 5,
        skip_preflight: o.SkipPreflight = False,
    ) -> None:
        run_processors(o.app_context(ctx), phase, processor, all_, start_date, end_date, dates, dry_run=dry_run,
                       force=force, retry_failed=retry_failed, fail_fast=fail_fast, skip_preflight=skip_preflight)

    run.__doc__ = doc
    return run
