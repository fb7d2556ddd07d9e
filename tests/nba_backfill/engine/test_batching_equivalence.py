"""The engine's optimisations (block reads of inputs, multi-date transactions) change no output.

With batch_days=1 every date reads its own inputs and commits alone: the unoptimised path.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
from backfill_outputs import run_outputs


def test_block_reads_and_batched_commits_give_the_same_tables(sample_db: Path, tmp_path: Path) -> None:
    shutil.copy(sample_db, tmp_path / "a.duckdb")
    shutil.copy(sample_db, tmp_path / "b.duckdb")
    optimised, optimised_states = run_outputs(f"duckdb:///{tmp_path / 'a.duckdb'}", batch_days=31)
    plain, plain_states = run_outputs(f"duckdb:///{tmp_path / 'b.duckdb'}", batch_days=1)
    for name, frame in optimised.items():
        assert len(frame) > 0, name
        pd.testing.assert_frame_equal(frame, plain[name], obj=name)
    assert optimised_states == plain_states
