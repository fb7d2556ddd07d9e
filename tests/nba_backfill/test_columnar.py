"""Block-built frames (`frame_of_arrays`, finalize_rows) and `column_arrays`: the same frames as the
pandas constructor, sharing no data with their inputs."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nba_backfill.tables import Column, TableSpec
from nba_backfill.columnar import column_arrays, frame_of_arrays
from nba_backfill.finalize import finalize_rows


def _mixed_columns(n: int) -> dict[str, object]:
    rng = np.random.default_rng(n)
    lists = np.empty(n, dtype=object)
    for i in range(n):
        lists[i] = [float(i)] if i % 2 else []
    return {
        "f": rng.random(n),
        "s_float": pd.Series(rng.random(n)),
        "i": pd.Series(rng.integers(0, 9, n)),
        "b": pd.Series(rng.random(n) < 0.5),
        "text_obj": pd.Series(rng.choice(["a", "b"], n).astype(object), dtype=object),  # stays object
        "text_str": pd.Series(rng.choice(["a", "b"], n), dtype="str"),
        "nullable": pd.array(rng.integers(0, 5, n), dtype="Int64"),
        "flags": pd.array(rng.random(n) < 0.5, dtype="boolean"),
        "lists": lists,
        "hashes": np.array([f"{i:016x}" for i in range(n)], dtype=object),  # hex texts stay object
        "day_ns": np.arange(n).astype("datetime64[D]").astype("datetime64[ns]"),
        "day_s": pd.Series(np.arange(n).astype("datetime64[D]").astype("datetime64[s]")),
        "stamp": pd.Series(pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC")),
    }


@pytest.mark.parametrize("n", [1, 5, 40])
def test_frame_of_arrays_equals_the_constructor(n: int) -> None:
    columns = _mixed_columns(n)
    index = pd.RangeIndex(n)
    # object arrays are kept as object (the constructor would infer `str` from an array of texts)
    kept = {k: pd.Series(v, dtype=object) if isinstance(v, np.ndarray) and v.dtype == object else v for k, v in columns.items()}
    want = pd.DataFrame(kept, index=index)
    got = frame_of_arrays(columns, index)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got.dtypes.tolist() == want.dtypes.tolist()
    assert got.columns.dtype == want.columns.dtype
    got.columns.name = "renamed"  # the label cache hands out copies
    assert frame_of_arrays(columns, index).columns.name is None


def test_frame_of_arrays_shares_no_data_with_its_inputs() -> None:
    columns = _mixed_columns(6)
    before = {k: (v.copy() if hasattr(v, "copy") else v) for k, v in columns.items()}
    got = frame_of_arrays(columns, pd.RangeIndex(6))
    for name in ("f", "s_float", "i", "nullable"):
        got.iloc[0, got.columns.get_loc(name)] = 99
    got.iloc[0, got.columns.get_loc("flags")] = pd.NA
    for name, values in columns.items():
        if name != "lists":
            assert pd.Series(values).equals(pd.Series(before[name])), name


def test_finalize_rows_output_is_independent_of_the_input() -> None:
    table = TableSpec("t.t", (Column("key", "STRING"), Column("n", "INT64"), Column("x", "NUMERIC(5,1)"),
                              Column("cnt", "INT64"), Column("flag", "BOOLEAN"), Column("data_hash", "STRING")))
    rows = pd.DataFrame({"key": pd.Series(["a", "b", "c"], dtype="str"), "n": [1, 2, 3], "x": [0.25, 1.05, 2.0],
                         "cnt": pd.array([1, None, 3], dtype="Int64"), "flag": [True, False, True]})
    snapshot = rows.copy()
    out = finalize_rows(rows, table, ["key", "n", "x", "cnt", "flag"])
    assert out.dtypes.astype(str).tolist() == ["str", "int64", "float64", "Int64", "bool", "object"]
    assert out["x"].tolist() == [0.3, 1.1, 2.0]
    out.loc[0, "n"] = 100
    out.loc[0, "cnt"] = 100
    out.loc[0, "flag"] = False
    out.loc[1, "key"] = "z"
    pd.testing.assert_frame_equal(rows, snapshot)


def test_column_arrays_match_the_columns() -> None:
    frame = pd.DataFrame(_mixed_columns(7)).drop(columns=["lists"])
    names = ["stamp", "f", "text_str", "nullable", "day_s", "text_obj", "b"]
    for name, values in zip(names, column_arrays(frame, names), strict=True):
        assert values.dtype == frame[name].dtype
        assert pd.Series(values, dtype=frame[name].dtype).equals(frame[name]), name
        assert isinstance(values, np.ndarray) == (name in ("f", "text_obj", "b"))
    with pytest.raises(KeyError):
        column_arrays(frame, ["absent"])
