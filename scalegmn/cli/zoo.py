"""`scalegmn` sub-commands: zoo."""

from scalegmn.cli.main import app, console  # noqa: F401
