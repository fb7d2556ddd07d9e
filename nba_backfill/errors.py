"""The one exception hierarchy of nba-backfill; the CLI maps each branch to an exit code."""
from __future__ import annotations


class BackfillError(Exception):
    """Base of every error the tool raises on purpose (never a bug)."""

    exit_code = 1


class UsageError(BackfillError):
    """Bad command-line input: a malformed date, an unknown processor, start after end."""

    exit_code = 2


class ConfigError(UsageError):
    """A bad setting: an unparsable warehouse URL, an unknown season."""


class RegistryError(BackfillError):
    """The registry is inconsistent (unknown table, duplicate output, cycle)."""

    exit_code = 3


class EnvironmentProblem(BackfillError):
    """The environment is not ready: warehouse unreachable, tables missing, lock held."""

    exit_code = 3


class LockHeld(EnvironmentProblem):
    """Another run holds the lease on a processor this run would write."""


class UpstreamNotReady(BackfillError):
    """A same-date upstream unit is not ready; the unit becomes BLOCKED."""


class ProcessorError(BackfillError):
    """A processor raised or returned rows that violate the table contract."""


class ValidationError(ProcessorError):
    """Rows violate the table contract (types, NOT NULL, key, NUMERIC scale)."""


class WarehouseError(BackfillError):
    """A warehouse operation failed; backends translate driver errors into subclasses."""

    exit_code = 3


class TransientWarehouseError(WarehouseError):
    """Worth retrying: rate limits, 5xx, serialization conflicts, timeouts."""


class TerminalWarehouseError(WarehouseError):
    """Not worth retrying: invalid query, access denied, location mismatch."""


class TableNotFound(TerminalWarehouseError):
    """A table the operation needs does not exist."""
