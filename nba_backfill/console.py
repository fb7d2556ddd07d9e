"""Terminal output of nba-backfill: Rich progress bars, summary and failure tables (stdout), errors (stderr)."""
from __future__ import annotations

import datetime as dt
import json
import sys
import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from nba_backfill.engine.summary import RunSummary

STATE_STYLE = {
    "COMPLETE": "green", "EXPECTED_EMPTY": "cyan", "SKIPPED_BOOTSTRAP": "blue", "NO_GAMES": "dim",
    "NO_SOURCE_DATA": "yellow", "DEGRADED": "magenta", "BLOCKED": "red", "FAILED": "bold red",
    "NOT_RUN": "white", "STALE": "orange3", "WILL_RUN": "bright_white", "DONE_EARLIER": "green",
}

out = Console(highlight=False, soft_wrap=True)
if not out.is_terminal:
    out = Console(highlight=False, soft_wrap=True, width=150)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def error(message: str) -> None:
    """One red line on stderr: how every expected error reaches the operator."""
    err.print(f"[bold red]Error:[/] {message}")


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


class RichProgress:
    """One bar per processor (dates done/total, current date, rate, ETA); plain lines off a terminal."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.tty = out.is_terminal
        self._progress: Progress | None = None
        self._tasks: dict[str, int] = {}
        self._done: dict[str, int] = {}
        self._total: dict[str, int] = {}
        self._t0: dict[str, float] = {}

    def start(self, processor: str, total: int) -> None:
        if not self.enabled:
            return
        self._done[processor], self._total[processor], self._t0[processor] = 0, total, time.perf_counter()
        if self.tty:
            if self._progress is None:
                self._progress = Progress(
                    TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[day]}"), TextColumn("{task.fields[rate]}"),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=out,
                )
                self._progress.start()
            self._tasks[processor] = self._progress.add_task(processor, total=total, day="", rate="")
        else:
            out.print(f"{processor}: {total} dates planned")

    def advance(self, processor: str, day: dt.date, state: str) -> None:
        if not self.enabled:
            return
        self._done[processor] = self._done.get(processor, 0) + 1
        done = self._done[processor]
        rate = done / max(time.perf_counter() - self._t0.get(processor, time.perf_counter()), 1e-6)
        if self._progress is not None and processor in self._tasks:
            self._progress.update(self._tasks[processor], advance=1, day=day.isoformat(), rate=f"{rate:.1f} d/s")
        elif done % 10 == 0 or done == self._total.get(processor):
            out.print(f"{processor}: {done}/{self._total.get(processor, '?')} dates, at {day} ({state}), {rate:.1f} dates/s")

    def finish(self, processor: str) -> None:
        """Bars stay on screen until close(); nothing to do per processor."""

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def render_summary(summary: RunSummary) -> None:
    """Counts by processor and state, the failures table, data gaps, and the retry commands."""
    counts = summary.counts()
    states = sorted({s for c in counts.values() for s in c})
    title = "Dry run: planned units" if summary.dry_run else f"Run {summary.run_id}"
    table = Table(title=title)
    table.add_column("processor")
    for s in states:
        table.add_column(s, style=STATE_STYLE.get(s, ""), justify="right")
    if not summary.dry_run:
        table.add_column("statements", justify="right")
        table.add_column("seconds", justify="right")
    for proc, c in counts.items():
        extra = [] if summary.dry_run else [str(summary.statements.get(proc, 0)), f"{summary.seconds.get(proc, 0.0):.1f}"]
        table.add_row(proc, *[str(c.get(s, 0)) for s in states], *extra)
    out.print(table)
    if summary.load_jobs:
        out.print("load jobs: " + ", ".join(f"{t} {n}" for t, n in sorted(summary.load_jobs.items())))
    if summary.planned_statements:
        out.print(f"[bold]Input queries the run would issue ({len(summary.planned_statements)}; "
                  f"plus per {31} dates one write transaction and one ledger append):[/]")
        for st in summary.planned_statements:
            size = f"  [{st['bytes']:,} bytes]" if st.get("bytes") is not None else ""
            params = ", ".join(f"@{k}={v}" for k, v in st["params"].items())
            out.print(f"  {st['processor']}: {st['sql']}  {params}{size}", markup=False)
    failures = summary.failures()
    if failures:
        ft = Table(title="Failures", title_style="bold red")
        for col in ("processor", "date", "state", "error", "attempt"):
            ft.add_column(col)
        for o in failures[:200]:
            ft.add_row(o.processor, o.day.isoformat(), f"[{STATE_STYLE.get(o.state, '')}]{o.state}[/]",
                       (o.error_class + ": " if o.error_class else "") + (o.reason or ""), str(o.attempt))
        out.print(ft)
        if len(failures) > 200:
            out.print(f"... and {len(failures) - 200} more (nba-backfill phase4 failures)")
    gaps = summary.gaps()
    if gaps:
        out.print(f"[yellow]⚠ data gaps (NO_SOURCE_DATA): {len(gaps)} units[/]")
        for o in gaps[:20]:
            out.print(f"  ⚠ {o.processor} {o.day}: {o.reason}")
    retry = summary.retry_commands()
    if retry:
        out.print("[bold]Retry the failed dates with:[/]")
        for line in retry:
            out.print(f"  {line}", markup=False)
    if summary.interrupted:
        out.print("[yellow]Interrupted: finished units are recorded; run the same command again to resume.[/]")
