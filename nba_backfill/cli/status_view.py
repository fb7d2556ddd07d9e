"""Rich rendering of `phase4 status` (compact calendar per season) and `phase4 failures`."""
from __future__ import annotations

from itertools import groupby

from rich.table import Table
from rich.text import Text

from nba_backfill.console import STATE_STYLE, out
from nba_backfill.dates import season_label, season_of
from nba_backfill.engine.status import Coverage

CELL = {"COMPLETE": "■", "EXPECTED_EMPTY": "□", "SKIPPED_BOOTSTRAP": "·", "NO_SOURCE_DATA": "⚠", "MISSING": " ",
        "ROWS_NO_LEDGER": "▪", "DEGRADED": "◆", "BLOCKED": "▲", "FAILED": "✖", "NOT_RUN": "○", "STALE": "◇"}


def render_status(cov: Coverage) -> None:
    """Per season a compact calendar: one line per month and processor, one coloured cell per game date."""
    for season, days in groupby(cov.dates, key=season_of):
        days = list(days)
        table = Table(title=f"Season {season_label(season)}: {len(days)} game dates")
        table.add_column("month")
        table.add_column("processor")
        table.add_column("game dates (one cell each)", no_wrap=True)
        months = [list(g) for _, g in groupby(days, key=lambda d: (d.year, d.month))]
        for month in months:
            for i, proc in enumerate(cov.processors):
                text = Text()
                for d in month:
                    state, _ = cov.cells[(proc, d)]
                    text.append(CELL.get(state, "?"), style=STATE_STYLE.get(state, "dim"))
                table.add_row(month[0].strftime("%Y-%m") if i == 0 else "", proc, text,
                              end_section=i == len(cov.processors) - 1)
        out.print(table)
    totals = cov.totals()
    states = sorted({s for c in totals.values() for s in c})
    t = Table(title="Totals per processor and season")
    t.add_column("processor")
    t.add_column("season")
    for s in states:
        t.add_column(s, style=STATE_STYLE.get(s, ""), justify="right")
    t.add_column("rows", justify="right")
    for (proc, season), counter in sorted(totals.items(), key=lambda kv: (cov.processors.index(kv[0][0]), kv[0][1])):
        rows = sum(n for (p, d), (_, n) in cov.cells.items() if p == proc and season_of(d) == season)
        t.add_row(proc, season_label(season), *[str(counter.get(s, 0)) for s in states], f"{rows:,}")
    out.print(t)
    out.print("legend: " + "  ".join(f"[{STATE_STYLE.get(s, 'dim')}]{c}[/] {s}" for s, c in CELL.items()))


def render_failures(report: dict) -> None:
    rows = report["failures"]
    if not rows:
        out.print("[green]No failed, blocked, degraded, not-run, stale or no-source units.[/]")
        return
    t = Table(title="Failures (latest state per unit)")
    for c in ("processor", "date", "state", "error", "attempts", "run"):
        t.add_column(c)
    for r in rows:
        marker = "⚠ " if r["state"] == "NO_SOURCE_DATA" else ""
        t.add_row(r["processor"], r["date"], f"[{STATE_STYLE.get(r['state'], '')}]{marker}{r['state']}[/]",
                  ((r["error_class"] + ": ") if r["error_class"] else "") + (r["reason"] or ""), str(r["attempt"]), r["run_id"])
    out.print(t)
    if report["retry_commands"]:
        out.print("[bold]Retry with:[/]")
        for line in report["retry_commands"]:
            out.print(f"  {line}", markup=False)
