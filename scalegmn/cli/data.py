"""`scalegmn` sub-commands: data."""

from scalegmn.cli.main import app, console  # noqa: F401
