"""`python -m nba_backfill` runs the CLI."""
from nba_backfill.cli import app

app(prog_name="nba-backfill")
