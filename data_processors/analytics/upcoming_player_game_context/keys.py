"""Canonical identifiers shared by both prop sources: player keys (spec §2.2) and team tricodes (§2.3)."""
from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Any

import pandas as pd

#: The 30 NBA tricodes: the only team codes of the schedule and the Phase 3 tables.
NBA_TRICODES = frozenset(
    "ATL BOS BKN CHA CHI CLE DAL DEN DET GSW HOU IND LAC LAL MEM MIA MIL MIN "
    "NOP NYK OKC ORL PHI PHX POR SAC SAS TOR UTA WAS".split()
)

#: Variant codes used by the prop sources, mapped to the NBA tricode.
TEAM_VARIANTS = {
    "BRK": "BKN",
    "CHO": "CHA",
    "PHO": "PHX",
    "GS": "GSW",
    "NO": "NOP",
    "SA": "SAS",
    "NY": "NYK",
    "UTAH": "UTA",
    "WSH": "WAS",
}


@lru_cache(maxsize=65536)
def canon(name: str) -> str:
    """Canonical player key: lowercase, strip accents (NFD), keep only [a-z0-9]; suffixes stay."""
    decomposed = unicodedata.normalize("NFD", name.lower())
    return "".join(ch for ch in decomposed if ("a" <= ch <= "z") or ("0" <= ch <= "9"))


def _canon_or_empty(value: Any) -> str:
    return canon(value) if isinstance(value, str) else ""


def prop_keys(names: pd.Series, lookups: pd.Series) -> pd.Series:
    """Key of each prop row: canon(player_name), else canon(player_lookup); '' when neither forms one."""
    by_name = names.map(_canon_or_empty)
    by_lookup = lookups.map(_canon_or_empty)
    return by_name.where(by_name != "", by_lookup).astype("object")


@lru_cache(maxsize=1024)
def _map_code(code: str) -> str | None:
    text = code.strip().upper()
    text = TEAM_VARIANTS.get(text, text)
    return text if text in NBA_TRICODES else None


def map_team(code: Any) -> str | None:
    """NBA tricode of a prop-source team code; None means 'no team' (e.g. FA, NULL)."""
    return _map_code(code) if isinstance(code, str) else None


def map_teams(codes: pd.Series) -> pd.Series:
    """map_team over a Series (object dtype, None for no team)."""
    return codes.map(map_team).astype("object")
