"""Options shared by several commands (declared once) and the CLI's error boundary."""
from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Optional, TypeVar
from zoneinfo import ZoneInfo

import typer

from nba_backfill import console
from nba_backfill.dates import parse_date_list, parse_iso_date
from nba_backfill.errors import BackfillError, UsageError
from nba_backfill.settings import Settings
from nba_backfill.warehouse.base import Warehouse

StartDate = Annotated[Optional[str], typer.Option("--start-date", help="First date, YYYY-MM-DD.")]
EndDate = Annotated[Optional[str], typer.Option("--end-date", help="Last date (inclusive), YYYY-MM-DD; before today (US-Eastern).")]
Dates = Annotated[Optional[str], typer.Option("--dates", help="Explicit dates, comma-separated YYYY-MM-DD.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Print the plan and Phase 3 availability; write nothing.")]
Force = Annotated[bool, typer.Option("--force", help="Re-run units already COMPLETE or EXPECTED_EMPTY.")]
RetryFailed = Annotated[bool, typer.Option("--retry-failed", help="Only units whose last state is FAILED, BLOCKED, DEGRADED, NOT_RUN, STALE or NO_SOURCE_DATA.")]
FailFast = Annotated[int, typer.Option("--fail-fast", min=1, help="Stop a processor after N consecutive failures of the same error class.")]
SkipPreflight = Annotated[bool, typer.Option("--skip-preflight", help="Skip the Phase 3 lookback pre-flight check (recorded in the run).")]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class AppContext:
    """What the callback resolved for the command: settings and a lazily opened warehouse."""

    settings: Settings
    _warehouse: Warehouse | None = field(default=None, repr=False)

    def warehouse(self) -> Warehouse:
        if self._warehouse is None:
            from nba_backfill.warehouse import connect

            self._warehouse = connect(self.settings.warehouse)
        return self._warehouse

    def close(self) -> None:
        if self._warehouse is not None:
            self._warehouse.close()
            self._warehouse = None


def app_context(ctx: typer.Context) -> AppContext:
    obj = ctx.find_root().obj
    if not isinstance(obj, AppContext):  # invoked without the callback (tests of a sub-app)
        from nba_backfill.settings import resolve

        obj = AppContext(resolve(None, False, False, False))
        ctx.find_root().obj = obj
    return obj


def handle_errors(fn: F) -> F:
    """Turn BackfillError into one red stderr line and its exit code; Ctrl-C into exit 130."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = kwargs.get("ctx") or next((a for a in args if hasattr(a, "find_root")), None)
        debug = bool(ctx and isinstance(ctx.find_root().obj, AppContext) and ctx.find_root().obj.settings.debug)
        try:
            return fn(*args, **kwargs)
        except BackfillError as exc:
            if debug:
                raise
            console.error(str(exc))
            logging.getLogger(__name__).debug("error", exc_info=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            console.error("interrupted")
            raise typer.Exit(130) from None
        finally:
            if ctx is not None and isinstance(ctx.find_root().obj, AppContext):
                ctx.find_root().obj.close()

    return wrapper  # type: ignore[return-value]


def today_eastern() -> dt.date:
    """Today's date in US-Eastern time: game dates are Eastern dates."""
    return dt.datetime.now(ZoneInfo("America/New_York")).date()


def resolve_dates(start: str | None, end: str | None, dates: str | None, *, allow_today: bool = False) -> tuple[dt.date, dt.date, tuple[dt.date, ...] | None]:
    """Validate the date options: a range or an explicit list, strictly parsed, ending before today."""
    if dates and (start or end):
        raise UsageError("give either --dates or --start-date/--end-date, not both")
    if dates:
        days = tuple(parse_date_list(dates))
        first, last = days[0], days[-1]
    elif start and end:
        first, last, days = parse_iso_date(start), parse_iso_date(end), None
        if first > last:
            raise UsageError(f"--start-date {first} is after --end-date {last}")
    elif start or end:
        raise UsageError("--start-date and --end-date go together")
    else:
        raise UsageError("give --start-date D --end-date D, or --dates D,D,...")
    today = today_eastern()
    if not allow_today and last >= today:
        raise UsageError(f"end date {last} is not before today ({today}, US-Eastern): backfills cover finished dates only")
    return first, last, days
