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
