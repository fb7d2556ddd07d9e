"""Today's processors and engine produce exactly the outputs recorded from an earlier implementation.

tests/golden/chain_outputs.json holds, for the sample range of support/backfill_outputs.py,
a digest of every output table (values as text, bookkeeping columns dropped) and every
unit's state and reason, written by commit d145a0c, before the performance work of issue 5.
Optimisations must leave them unchanged. The file also records digests of the sample
inputs: if the sample generator's output changes (say, a new numpy stream), the test says
so instead of reporting a processor difference. Regenerate deliberately with
`python tests/nba_backfill/engine/test_outputs_golden.py WAREHOUSE.duckdb` (a copy of the
sample fixture's warehouse: 2021-22 through 2021-12-05) and say why in the commit.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from backfill_outputs import frame_digest, input_digests, run_outputs

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "chain_outputs.json"


def _record(url: str) -> dict:
    inputs = input_digests(url)
    tables, states = run_outputs(url)
    return {"inputs": inputs,
            "outputs": {name: {"rows": len(df), "digest": frame_digest(df)} for name, df in sorted(tables.items())},
            "units": states}


def test_outputs_equal_the_recorded_implementation(sample_db: Path, tmp_path: Path) -> None:
    golden = json.loads(GOLDEN.read_text())
    target = tmp_path / "w.duckdb"
    shutil.copy(sample_db, target)
    now = _record(f"duckdb:///{target}")
    assert now["inputs"] == golden["inputs"], "the sample data changed: the golden outputs no longer apply"
    assert now["units"] == golden["units"]
    for name, expected in golden["outputs"].items():
        assert expected["rows"] > 0, name
        assert now["outputs"][name] == expected, name


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps(_record(f"duckdb:///{sys.argv[1]}"), indent=1, sort_keys=True) + "\n")
