"""The ``scalegmn`` command. ``main`` defines the app; each module below adds its sub-commands."""

from scalegmn.cli.main import app
from scalegmn.cli import data, models, report, train, zoo  # noqa: F401,E402  (registers sub-commands)

__all__ = ["app"]
