"""`verify`: the release checklist, one ✅/❌ line per check; exit 0 only when all pass."""
from __future__ import annotations

import typer

from nba_backfill import console
from nba_backfill.cli import _options as o
from nba_backfill.registry import default_registry


@o.handle_errors
def verify(ctx: typer.Context, start_date: o.StartDate = None, end_date: o.EndDate = None) -> None:
    """Check wrappers, the props fallback and, with a range, Phase 4 coverage, ledger agreement and keys.

    Example:
        nba-backfill verify --start-date 2021-10-19 --end-date 2022-06-16
    """
    from nba_backfill.verify.checks import check_fallback, check_range, check_wrappers, repo_root

    app = o.app_context(ctx)
    registry = default_registry()
    checks = check_wrappers(registry, repo_root())
    checks.append(check_fallback(app.warehouse(), registry))
    if start_date or end_date:
        first, last, _ = o.resolve_dates(start_date, end_date, None, allow_today=True)
        checks.extend(check_range(app.warehouse(), registry, first, last))
    if app.settings.json:
        console.emit_json([{"check": c.name, "passed": c.passed, "details": c.details, "warnings": c.warnings} for c in checks])
    else:
        for c in checks:
            console.out.print(f"{'✅' if c.passed else '❌'} {c.name}")
            for line in c.details + c.warnings:
                console.out.print(f"     {line}", markup=False)
        passed = sum(c.passed for c in checks)
        console.out.print(f"{passed}/{len(checks)} checks passed")
    raise typer.Exit(0 if all(c.passed for c in checks) else 1)
