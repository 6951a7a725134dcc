"""`scalegmn` sub-commands: report."""

from scalegmn.cli.main import app, console  # noqa: F401
