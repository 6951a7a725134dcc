"""How a script ends on bad input: one line naming the problem on stderr and exit status 1, not a
traceback (set ``SCALEGMN_DEBUG=1`` to get the traceback)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable


def report_errors(main: Callable[[], None]) -> None:
    """Run ``main``; a ``ValueError`` or ``OSError`` becomes ``error: <message>`` and exit status 1."""
    try:
        main()
    except (ValueError, OSError) as err:
        if os.environ.get("SCALEGMN_DEBUG"):
            raise
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
