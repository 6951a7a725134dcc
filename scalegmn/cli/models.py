"""`scalegmn` sub-commands: models."""

from scalegmn.cli.main import app, console  # noqa: F401
