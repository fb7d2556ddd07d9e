from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from nba_backfill.rowcheck import validate_rows
from nba_backfill.errors import ValidationError
from nba_backfill.tables import table

T = table("nba_precompute.team_defense_zone_analysis")
D = dt.date(2024, 12, 20)


def _rows(**over) -> pd.DataFrame:
    row = {"team_abbr": "BOS", "analysis_date": D, "paint_pct_allowed_last_15": 0.563, "games_in_sample": 15,
           "processed_at": pd.Timestamp("2024-12-21T08:00:00Z")}
    row.update(over)
    return pd.DataFrame([row])


def test_valid_rows_come_back_in_contract_order() -> None:
    out = validate_rows(_rows(), T, D, "analysis_date")
    assert list(out.columns) == T.column_names


@pytest.mark.parametrize(
    "rows, message",
    [
        (_rows(paint_pct_allowed_last_15=0.5625), r"does not fit NUMERIC\(5,3\)"),
        (_rows(paint_pct_allowed_last_15=123.0), "does not fit"),
        (_rows(team_abbr=None), "REQUIRED"),
        (_rows(analysis_date=dt.date(2024, 12, 21)), "outside the partition"),
        (pd.concat([_rows(), _rows()]), "duplicate primary key"),
        (_rows(bogus=1), "unknown columns"),
    ],
)
def test_contract_violations_are_rejected(rows: pd.DataFrame, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        validate_rows(rows, T, D, "analysis_date")


# --- the column-at-a-time rules the vectorized checks replaced --------------------------------------

def ref_contract_problem(rows: pd.DataFrame, table, day=None, date_column=None) -> str | None:
    import numpy as np

    from nba_backfill.rowcheck import _bad_numeric
    from nba_backfill.values import is_null

    unknown = [c for c in rows.columns if c not in table.by_name]
    if unknown:
        return f"{table.name}: unknown columns {unknown}"
    if rows.empty:
        return None
    for col in table.columns:
        if col.name not in rows.columns:
            if col.required:
                return f"{table.name}.{col.name} is REQUIRED but missing"
            continue
        series = rows[col.name]
        if col.repeated:
            if col.base_type in ("FLOAT64", "NUMERIC"):
                flat = [x for v in series if isinstance(v, (list, tuple, np.ndarray)) for x in v]
                if flat and not np.isfinite(np.array([np.nan if is_null(x) else x for x in flat], dtype="float64")).all():
                    return f"{table.name}.{col.name}: array holds a NULL, NaN or infinite value"
            continue
        nulls = series.isna()
        if col.required and nulls.any():
            return f"{table.name}.{col.name} is REQUIRED but {int(nulls.sum())} rows are NULL"
        if col.base_type in ("NUMERIC", "FLOAT64") and not nulls.all():
            values = pd.to_numeric(series[~nulls], errors="raise").to_numpy(dtype="float64")
            if col.numeric_scale is not None:
                bad = values[_bad_numeric(values, col.numeric_precision or 38, col.numeric_scale)]
                if len(bad):
                    return f"{table.name}.{col.name}: {float(bad[0])!r} does not fit {col.type}"
            elif np.isinf(values).any():
                return f"{table.name}.{col.name}: infinite value"
    if day is not None and date_column is not None:
        dates = pd.to_datetime(rows[date_column]).dt.date
        if (dates != day).any():
            return f"{table.name}: rows dated outside the partition {day}"
    if table.primary_key:
        dupes = rows.duplicated(subset=list(table.primary_key))
        if dupes.any():
            key = rows.loc[dupes, list(table.primary_key)].iloc[0].tolist()
            return f"{table.name}: duplicate primary key {key}"
    return None


def _many_rows(n: int) -> pd.DataFrame:
    import numpy as np

    rng = np.random.default_rng(n)
    return pd.DataFrame({
        "team_abbr": pd.Series([f"T{i:03d}" for i in range(n)], dtype="str"),
        "analysis_date": [D] * n,
        "paint_pct_allowed_last_15": np.where(rng.random(n) < 0.3, np.nan, np.round(rng.random(n), 3)),
        "opponent_pace": np.round(rng.normal(100, 3, n), 1),
        "games_in_sample": pd.array(rng.integers(0, 15, n), dtype="Int64"),
        "completeness_percentage": rng.random(n) * 100,
        "data_quality_issues": [["x"]] * n,
        "processed_at": pd.Timestamp("2024-12-21T08:00:00Z"),
    })


def test_vectorized_checks_give_the_column_by_column_answer() -> None:
    import numpy as np

    from nba_backfill.rowcheck import contract_problem

    base = _many_rows(200)
    variants = {
        "clean": base,
        "bad scale late row": base.assign(opponent_pace=base["opponent_pace"].where(base.index != 150, 101.25)),
        "bad scale in two columns": base.assign(opponent_pace=101.25, paint_pct_allowed_last_15=0.5625),
        "too wide": base.assign(paint_pct_allowed_last_15=np.where(base.index == 3, 100.0, base["paint_pct_allowed_last_15"])),
        "infinite float64": base.assign(completeness_percentage=np.where(base.index == 9, np.inf, base["completeness_percentage"])),
        "infinite numeric": base.assign(opponent_pace=np.where(base.index == 9, -np.inf, base["opponent_pace"])),
        "null required": base.assign(team_abbr=base["team_abbr"].where(base.index % 7 != 0)),
        "null required float": base.assign(analysis_date=np.where(base.index % 5 == 0, np.nan, 1.0)),
        "all null numeric": base.assign(opponent_pace=np.nan),
        "object numbers": base.assign(opponent_pace=base["opponent_pace"].astype(object)),
        "duplicate key": pd.concat([base, base.iloc[[17]]], ignore_index=True),
        "same team, other dates": base.assign(team_abbr="T000", analysis_date=[D + dt.timedelta(days=i % 199) for i in range(200)]),
        "missing required": base.drop(columns=["processed_at"]),
        "int64 numeric": base.assign(opponent_pace=np.arange(200)),
    }
    for name, rows in variants.items():
        assert contract_problem(rows, T) == ref_contract_problem(rows, T), name
        assert contract_problem(rows, T, D, "analysis_date") == ref_contract_problem(rows, T, D, "analysis_date"), name
    assert contract_problem(variants["clean"], T) is None
    assert "101.25" in contract_problem(variants["bad scale late row"], T)


def test_partition_check_on_dates_timestamps_and_text() -> None:
    from nba_backfill.rowcheck import contract_problem

    base = _many_rows(30)
    for dates in (pd.Series(pd.to_datetime([D] * 30)), pd.Series(pd.to_datetime([D] * 29 + [dt.date(2024, 12, 21)])),
                  pd.Series([D] * 29 + [None], dtype=object), pd.Series(["2024-12-20"] * 30, dtype=object),
                  pd.Series([dt.datetime(2024, 12, 20, 5)] * 30, dtype=object)):
        rows = base.assign(analysis_date=dates)
        assert contract_problem(rows, T, D, "analysis_date") == ref_contract_problem(rows, T, D, "analysis_date")


def test_checks_on_extension_arrays_give_the_column_by_column_answer() -> None:
    """Columns are read as their backing arrays: masked, Arrow and tz-aware arrays answer like Series."""
    from nba_backfill.rowcheck import contract_problem

    base = _many_rows(60)
    text = base["team_abbr"].astype("string[pyarrow]")
    variants = {
        "arrow text key": base.assign(team_abbr=text),
        "arrow text key repeated": pd.concat([base.assign(team_abbr=text)] * 2, ignore_index=True),
        "arrow text required NULL": base.assign(team_abbr=text.where(base.index != 5)),
        "masked numeric bad scale": base.assign(opponent_pace=pd.array([101.25] + [100.5] * 59, dtype="Float64")),
        "masked numeric NULLs": base.assign(opponent_pace=pd.array([None] * 60, dtype="Float64")),
        "required timestamp NaT": base.assign(processed_at=base["processed_at"].where(base.index != 59)),
        "float array NaN": base.assign(data_quality_issues=[[1.0, float("nan")]] * 60),
    }
    for name, rows in variants.items():
        want = ref_contract_problem(rows, T, D, "analysis_date")
        assert contract_problem(rows, T, D, "analysis_date") == want, name
    assert "REQUIRED" in contract_problem(variants["arrow text required NULL"], T)
    assert "duplicate primary key" in contract_problem(variants["arrow text key repeated"], T)


def test_a_frame_the_processor_checked_is_still_checked_for_its_partition() -> None:
    from nba_backfill.rowcheck import contract_problem

    rows = _rows(analysis_date=dt.date(2024, 12, 21))
    assert contract_problem(rows, T) is None  # no day given: the partition is not checked yet
    with pytest.raises(ValidationError, match="outside the partition"):
        validate_rows(rows, T, D, "analysis_date")


def test_a_checked_frame_changed_afterwards_is_checked_again() -> None:
    from nba_backfill.rowcheck import contract_problem

    rows = _rows()
    assert contract_problem(rows, T) is None
    rows["games_in_sample"] = None  # optional column: still valid
    rows["team_abbr"] = None  # REQUIRED column emptied after the check
    rows = pd.concat([rows, _rows()], ignore_index=True)
    with pytest.raises(ValidationError, match="REQUIRED"):
        validate_rows(rows, T, D, "analysis_date")
    again = _rows()
    assert contract_problem(again, T) is None
    again.insert(0, "bogus", 1)
    with pytest.raises(ValidationError, match="unknown columns"):
        validate_rows(again, T, D, "analysis_date")
