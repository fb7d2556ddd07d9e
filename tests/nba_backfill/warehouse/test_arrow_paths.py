"""Shortcuts of the Arrow conversion give what the general conversion gives."""
from __future__ import annotations

import pandas as pd
import pyarrow as pa

from nba_backfill.tables import Column
from nba_backfill.warehouse.arrow import _convert, arrow_type


def test_all_null_object_columns_become_typed_nulls() -> None:
    for kind in ("STRING", "INT64", "FLOAT64", "NUMERIC(5,1)", "BOOLEAN", "DATE", "TIMESTAMP", "JSON"):
        col = Column("c", kind)
        got = _convert(pd.Series([None, float("nan"), None], dtype=object), col)
        assert got.type == arrow_type(col) and got.null_count == 3, kind
        assert got.equals(pa.array([None, None, None], type=arrow_type(col))), kind


def test_list_columns_convert_alike_whatever_the_cell_containers() -> None:
    col = Column("c", "ARRAY<FLOAT64>")
    lists = _convert(pd.Series([[1.0, 2.5], [], [3.0]], dtype=object), col)
    mixed = _convert(pd.Series([(1.0, 2.5), None, [3.0]], dtype=object), col)
    assert lists.equals(pa.array([[1.0, 2.5], [], [3.0]], type=pa.list_(pa.float64())))
    assert mixed.equals(lists)
