"""Check that every image of the self-contained HTML report loads in headless Chromium (offline), optionally
saving a full-page screenshot.

Usage: python scripts/check_report_html.py [REPORT_HTML=reports/report.html] [--screenshot PNG]
Exit status: 0 all images loaded, 1 some image is broken (they are listed), 2 the check itself failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scalegmn.report.browser_check import check_html


def main(argv: list[str] | None = None) -> int:
    """Run the check and print a one-line summary; the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", nargs="?", type=Path, default=Path("reports/report.html"), help="the HTML report")
    parser.add_argument("--screenshot", type=Path, help="also save a full-page PNG here")
    parser.add_argument("--chromium", help="the Chromium executable (default: chromium or chromium-browser on PATH)")
    parser.add_argument("--timeout", type=float, default=60, help="seconds each Chromium run may take")
    args = parser.parse_args(argv)
    try:
        check = check_html(args.html, screenshot=args.screenshot, chromium=args.chromium, timeout_s=args.timeout)
    except (FileNotFoundError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    shot = f"; screenshot -> {check.screenshot}" if check.screenshot else ""
    print(f"{check.html.name}: {check.images_loaded}/{check.images_total} images loaded in {check.browser} "
          f"({check.seconds:.1f} s){shot}")
    for name in check.broken:
        print(f"  broken: {name}")
    return 0 if check.ok else 1


if __name__ == "__main__":
    sys.exit(main())
