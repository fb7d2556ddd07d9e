"""Schedule games and team placement: S(d), TG(T), D_prev and the side of a player in a game (spec §2.4, Step 4)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from data_processors.precompute.conventions import row_seasons
from nba_backfill.dates import season_label

from .keys import map_teams


@dataclass(frozen=True)
class Game:
    """One eligible schedule game g of S(D)."""

    sid: str  # standard id YYYYMMDD_AWAY_HOME
    home: str
    away: str
    nba_id: str

    @property
    def game_type(self) -> str:
        """Third character of the NBA id: 2 regular season, 4 playoffs, 5 play-in."""
        return self.nba_id[2:3] if isinstance(self.nba_id, str) else ""

    def other(self, team: str) -> str:
        return self.away if team == self.home else self.home


def eligible_games(schedule: pd.DataFrame) -> pd.DataFrame:
    """S(d) for every date of the frame: deduped per (game_id, game_date), final, RS or playoffs, not All-Star.

    Returns columns game_id, game_date, home, away, sid, processed_at, season (float).
    """
    cols = ["game_id", "game_date", "home", "away", "sid", "processed_at", "season"]
    if schedule.empty:
        return pd.DataFrame({c: pd.Series([], dtype="object") for c in cols})
    ranked = schedule.sort_values(["game_status", "processed_at"], ascending=[False, False], na_position="last", kind="mergesort")
    kept = ranked.drop_duplicates(subset=["game_id", "game_date"], keep="first")
    is_rs = kept["is_regular_season"].fillna(False).astype(bool)
    is_po = kept["is_playoffs"].fillna(False).astype(bool)
    all_star = kept["is_all_star"].fillna(False).astype(bool)
    kept = kept[(kept["game_status"] == 3) & (is_rs | is_po) & ~all_star & kept["game_date"].notna()]
    out = pd.DataFrame(
        {
            "game_id": kept["game_id"],
            "game_date": kept["game_date"],
            "home": kept["home_team_tricode"],
            "away": kept["away_team_tricode"],
            "processed_at": kept["processed_at"],
            "season": row_seasons(kept) if len(kept) else pd.Series([], dtype="float64"),
        }
    )
    out["sid"] = out["game_date"].dt.strftime("%Y%m%d") + "_" + out["away"].astype(str) + "_" + out["home"].astype(str)
    return out.reset_index(drop=True)[cols]


def games_on(games: pd.DataFrame, day: dt.date) -> list[Game]:
    """The games of S(D), ordered by standard id."""
    today = games[games["game_date"] == pd.Timestamp(day)].sort_values("sid")
    return [Game(s, h, a, n) for s, h, a, n in zip(today["sid"], today["home"], today["away"], today["game_id"])]


def team_games_before(games: pd.DataFrame, day: dt.date, season: int) -> pd.DataFrame:
    """TG: (team, game_date, sid) for the season's eligible games before D, newest first per team."""
    past = games[(games["season"] == season) & (games["game_date"] < pd.Timestamp(day))]
    both = pd.concat(
        [
            past[["home", "game_date", "sid"]].rename(columns={"home": "team"}),
            past[["away", "game_date", "sid"]].rename(columns={"away": "team"}),
        ],
        ignore_index=True,
    )
    return both.sort_values(["team", "game_date", "sid"], ascending=[True, False, False], kind="mergesort").reset_index(drop=True)


def previous_game_date(games: pd.DataFrame, day: dt.date, season: int) -> dt.date | None:
    """D_prev: the latest date before D with an eligible final game of the season."""
    past = games[(games["season"] == season) & (games["game_date"] < pd.Timestamp(day))]
    return None if past.empty else past["game_date"].max().date()


@dataclass
class SideFinder:
    """Steps 2-3 of side(p, g): registry affiliation of season SY, then recent boxscore team."""

    registry: dict[str, list[tuple[str, pd.Timestamp]]] = field(default_factory=dict)
    last_team: dict[str, str] = field(default_factory=dict)
    day: pd.Timestamp = field(default_factory=lambda: pd.Timestamp(0))

    @classmethod
    def build(cls, registry: pd.DataFrame, recent: pd.DataFrame, day: dt.date, season: int, players: set[str]) -> SideFinder:
        """registry: nba_players_registry rows; recent: player_game_summary rows of seasons SY-1..SY before D."""
        reg = registry[(registry["season"] == season_label(season)) & registry["player_lookup"].isin(players)]
        teams = map_teams(reg["team_abbr"])
        by_player: dict[str, list[tuple[str, pd.Timestamp]]] = {}
        for key, team, first in zip(reg["player_lookup"], teams, reg["first_game_date"]):
            if team is not None:
                by_player.setdefault(key, []).append((team, first))
        mask = recent["player_lookup"].isin(players).to_numpy()
        latest = recent.loc[mask, ["player_lookup", "team_abbr", "game_date", "processed_at", "game_id"]]  # sort only what is read
        latest = latest.sort_values(["game_date", "processed_at", "game_id"], ascending=False, na_position="last", kind="mergesort")
        latest = latest.drop_duplicates("player_lookup", keep="first")
        return cls(by_player, dict(zip(latest["player_lookup"], latest["team_abbr"])), pd.Timestamp(day))

    def from_registry(self, key: str, game: Game) -> str | None:
        """Team of p in g by the registry; two candidate teams are split by the latest first_game_date <= D."""
        rows = [(t, f) for t, f in self.registry.get(key, []) if t in (game.home, game.away)]
        teams = {t for t, _ in rows}
        if len(teams) == 1:
            return rows[0][0]
        if len(teams) < 2:
            return None
        best: dict[str, pd.Timestamp] = {}
        for team, first in rows:
            if pd.notna(first) and first <= self.day and (team not in best or first > best[team]):
                best[team] = first
        if not best:
            return None
        top = max(best.values())
        winners = [t for t, f in best.items() if f == top]
        return winners[0] if len(winners) == 1 else None

    def from_history(self, key: str, game: Game) -> str | None:
        """Team of p's most recent boxscore row (any status) if it plays in g."""
        team = self.last_team.get(key)
        return team if team in (game.home, game.away) else None

    def side(self, key: str, game: Game, issues: list[str]) -> str | None:
        """Steps 2-4 of side(p, g), appending the issue of the step that decided."""
        team = self.from_registry(key, game)
        if team is not None:
            issues.append("team_from_registry")
            return team
        team = self.from_history(key, game)
        if team is not None:
            issues.append("team_from_history")
            return team
        return None
