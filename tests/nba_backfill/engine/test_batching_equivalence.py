"""The engine's optimisations (block reads of inputs, multi-date transactions) change no output.

With batch_days=1 every date reads its own inputs and commits alone: the unoptimised path.
"""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd

from nba_backfill.engine.runner import RunRequest, Runner
from nba_backfill.registry import default_registry
from nba_backfill.warehouse import connect

START, END = dt.date(2021, 11, 20), dt.date(2021, 12, 4)
BOOKKEEPING = {"processed_at", "created_at"}


def _run(url: str, batch_days: int) -> dict[str, pd.DataFrame]:
    registry = default_registry()
    wh = connect(url)
    try:
        runner = Runner(wh, registry)
        p3 = runner.run(RunRequest(processors=tuple(registry.names(3)), start=START, end=END, batch_days=batch_days))
        p4 = runner.run(RunRequest(processors=tuple(registry.names(4)), start=START, end=END, batch_days=batch_days))
        assert p3.exit_code() == 0 and p4.exit_code() == 0
        out = {}
        for spec in registry.processors:
            df = wh.query(f"SELECT * FROM {spec.output_table} WHERE {spec.date_column} BETWEEN @a AND @b", {"a": START, "b": END})
            df = df.drop(columns=[c for c in df.columns if c in BOOKKEEPING or c.endswith("_last_updated")])
            out[spec.name] = df.sort_values(list(registry.output(spec.name).primary_key)).reset_index(drop=True).astype(str)
        return out
    finally:
        wh.close()


def test_block_reads_and_batched_commits_give_the_same_tables(sample_db: Path, tmp_path: Path) -> None:
    shutil.copy(sample_db, tmp_path / "a.duckdb")
    shutil.copy(sample_db, tmp_path / "b.duckdb")
    optimised = _run(f"duckdb:///{tmp_path / 'a.duckdb'}", batch_days=31)
    plain = _run(f"duckdb:///{tmp_path / 'b.duckdb'}", batch_days=1)
    for name, frame in optimised.items():
        assert len(frame) > 0, name
        pd.testing.assert_frame_equal(frame, plain[name], obj=name)
