"""finalize_columns must equal building the frame and calling conventions.finalize on it."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from data_processors.precompute import conventions as cv
from data_processors.precompute.player_daily_cache import player_daily_cache_processor as pdc
from nba_backfill.finalize import finalize_columns, text_array
from nba_backfill.tables import table


def _columns(n: int) -> dict[str, object]:
    """A mix of what build_rows hands over: arrays with NULLs and near-ties, scalars, lists,
    Int64 arrays, object text arrays; some contract columns left out."""
    rng = np.random.default_rng(3)
    out = table(pdc.OUTPUT)
    cols: dict[str, object] = {}
    for k, col in enumerate(out.columns):
        if col.name in ("data_hash", "player_age"):
            continue  # data_hash is computed; player_age is a missing column
        if col.repeated:
            cols[col.name] = [["a", "b"] if i % 3 else [] for i in range(n)]
        elif col.base_type == "INT64":
            x = rng.integers(0, 40, n).astype("float64")
            x[k % n] = np.nan
            cols[col.name] = cv.int64_array(x, n)
        elif col.base_type == "STRING":
            cols[col.name] = text_array(["p%d" % i if i % 4 else None for i in range(n)], n) if k % 2 else "v1"
        elif col.base_type == "DATE":
            cols[col.name] = pd.Timestamp(dt.date(2025, 1, 2))
        elif col.base_type == "TIMESTAMP":
            cols[col.name] = pd.Timestamp("2030-01-01", tz="UTC")
        elif col.base_type in ("BOOLEAN", "BOOL"):
            cols[col.name] = rng.random(n) > 0.5 if k % 2 else True
        else:
            x = np.round(rng.random(n) * 100, 3) + 0.005  # many ties at the NUMERIC scales
            x[0] = np.nan
            cols[col.name] = x if k % 3 else 100.0
    return cols


def test_finalize_columns_equals_finalize() -> None:
    n = 9
    out = table(pdc.OUTPUT)
    cols = _columns(n)
    index = pd.RangeIndex(n)
    legacy = {c: (pd.Series(v, dtype=object, index=index) if isinstance(v, np.ndarray) and v.dtype == object else v)
              for c, v in cols.items()}  # what text_column gave the old frame
    ordered = {c: legacy[c] for c in out.column_names if c in legacy}
    expected = cv.finalize(pd.DataFrame(ordered, index=index), out, pdc.HASH_FIELDS)
    got = finalize_columns(cols, out, pdc.HASH_FIELDS, n)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert got["player_age"].isna().all() and got["data_hash"].str.len().eq(16).all()


def test_text_array_nulls() -> None:
    got = text_array(np.array(["a", np.nan, None], dtype=object), 3)
    assert got.dtype == object and got.tolist() == ["a", None, None]
    assert text_array(None, 2).tolist() == [None, None]
