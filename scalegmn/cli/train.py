"""`scalegmn` sub-commands: train."""

from scalegmn.cli.main import app, console  # noqa: F401
