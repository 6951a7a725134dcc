"""The report's browser check: pages opened offline in headless Chromium (skipped where there is none)."""

from __future__ import annotations

import base64
import os
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from scalegmn.report.browser_check import check_html

ROOT = Path(__file__).resolve().parents[1]
needs_chromium = pytest.mark.skipif(not (shutil.which("chromium") or shutil.which("chromium-browser")),
                                    reason="no chromium executable (apt-get install chromium)")


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A valid single-colour RGB PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def data_uri(data: bytes) -> str:
    """``data`` as a base64 PNG data URI."""
    return "data:image/png;base64," + base64.b64encode(data).decode()


def page(tmp_path: Path, *images: tuple[str, str]) -> Path:
    """A small self-contained HTML page with ``(alt, src)`` images, written to tmp_path."""
    tags = "".join(f'<figure><img alt="{alt}" src="{src}"></figure>' for alt, src in images)
    path = tmp_path / "page.html"
    path.write_text(f"<!DOCTYPE html><html><head><title>Test page</title></head><body>{tags}</body></html>")
    return path


RED = data_uri(png(40, 30, (200, 0, 0)))
BLUE = data_uri(png(30, 40, (0, 0, 200)))
INVALID = "data:image/png;base64,bm90IGEgcG5n"  # "not a png"


@needs_chromium
def test_embedded_images_load_in_headless_chromium(tmp_path):
    check = check_html(page(tmp_path, ("red plot", RED), ("blue plot", BLUE)))
    assert (check.images_total, check.images_loaded, check.broken) == (2, 2, [])
    assert check.ok and check.title == "Test page" and check.browser.startswith("Chromium ")
    assert check.screenshot is None and check.seconds > 0


@needs_chromium
def test_broken_image_is_reported_by_name(tmp_path):
    check = check_html(page(tmp_path, ("red plot", RED), ("broken plot", INVALID)))
    assert (check.images_total, check.images_loaded, check.broken) == (2, 1, ["broken plot"])
    assert not check.ok


@needs_chromium
def test_image_from_the_network_is_broken_offline(tmp_path):
    check = check_html(page(tmp_path, ("", "https://example.com/plot.png")))
    assert check.broken == ["https://example.com/plot.png"]  # no alt text: the start of its src


@needs_chromium
def test_screenshot_is_written(tmp_path):
    shot = tmp_path / "shots" / "page.png"
    check = check_html(page(tmp_path, ("red plot", RED)), screenshot=shot)
    assert check.screenshot == shot
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 1000
    assert struct.unpack(">I", data[16:20])[0] == 1280  # IHDR width


@needs_chromium
def test_timeout_is_a_runtime_error_naming_the_file(tmp_path):
    path = page(tmp_path, ("red plot", RED))
    with pytest.raises(RuntimeError, match=r"page\.html: Chromium did not finish within"):
        check_html(path, timeout_s=0.01)


def test_missing_chromium_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install chromium"):
        check_html(page(tmp_path), chromium="/nonexistent")


@needs_chromium
def test_script_exits_1_and_lists_broken_images(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout's scalegmn, whichever one is installed
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "check_report_html.py"),
                           str(page(tmp_path, ("red plot", RED), ("broken plot", INVALID)))],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "page.html: 1/2 images loaded in Chromium" in proc.stdout
    assert "broken: broken plot" in proc.stdout
