"""Entry point of the thin backfill_jobs wrappers: legacy flags mapped onto the one CLI."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from nba_backfill.registry import default_registry


def job_main(processor: str, argv: Sequence[str] | None = None) -> int:
    """Run `nba-backfill phaseN run --processor <processor> ...` with the wrapper's flags; return the exit code."""
    spec = default_registry().get(processor)
    parser = argparse.ArgumentParser(
        prog=spec.wrapper.rsplit("/", 1)[-1],
        description=f"Backfill {spec.output_table} ({processor}) day by day; delegates to `nba-backfill phase{spec.phase} run`.",
    )
    parser.add_argument("--start-date", help="first date, YYYY-MM-DD")
    parser.add_argument("--end-date", help="last date (inclusive), YYYY-MM-DD")
    parser.add_argument("--dates", help="explicit dates, comma-separated YYYY-MM-DD")
    parser.add_argument("--dry-run", action="store_true", help="print the plan and availability; write nothing")
    parser.add_argument("--force", action="store_true", help="re-run dates already complete")
    parser.add_argument("--retry-failed", action="store_true", help="only dates whose last state is not done")
    parser.add_argument("--warehouse", help="warehouse URL (default: NBA_BACKFILL_WAREHOUSE or ./nba_warehouse.duckdb)")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    cli_args = [] if args.warehouse is None else ["--warehouse", args.warehouse]
    cli_args += [f"phase{spec.phase}", "run", "--processor", processor]
    for flag, value in (("--start-date", args.start_date), ("--end-date", args.end_date), ("--dates", args.dates)):
        if value is not None:
            cli_args += [flag, value]
    for flag, on in (("--dry-run", args.dry_run), ("--force", args.force), ("--retry-failed", args.retry_failed)):
        if on:
            cli_args.append(flag)
    from nba_backfill.cli import app

    try:
        app(args=cli_args, prog_name="nba-backfill", standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    return 0
