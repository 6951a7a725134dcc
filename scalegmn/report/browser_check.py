"""Screenshot-level check of a self-contained HTML page in headless Chromium: do its images load?

The page is copied to a temporary folder with a small script appended that, once the window has loaded, writes
the image counts as JSON into a marker element; ``chromium --dump-dom`` prints the DOM and the marker is read back.
Chromium resolves no host names here, and relative paths do not survive the copy: only what is embedded in the page
(``data:`` URIs) can load, which is what a self-contained report promises. No Python dependencies beyond the
standard library; Chromium itself is ``apt-get install chromium`` on Debian.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

MARKER_ID = "browser-check"
WIDTH = 1280
MAX_HEIGHT = 16384  # taller screenshots fail in Chromium's compositor
PROBE = f"""
<script>
window.addEventListener("load", () => {{
  const images = Array.from(document.images);
  const broken = images.filter((img) => !(img.complete && img.naturalWidth > 0));
  const marker = document.createElement("pre");
  marker.id = "{MARKER_ID}";
  marker.textContent = JSON.stringify({{
    total: images.length,
    broken: broken.map((img) => img.alt || img.getAttribute("src")?.slice(0, 40) || "(no src)"),
    title: document.title,
    height: document.documentElement.scrollHeight,
    userAgent: navigator.userAgent,
  }});
  document.body.appendChild(marker);
}});
</script>
"""
MARKER = re.compile(rf'<pre id="{MARKER_ID}">(.*?)</pre>', re.DOTALL)
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # offline: no host name resolves
)


@dataclass
class BrowserCheck:
    """What headless Chromium saw of one HTML page."""

    html: Path
    images_total: int
    images_loaded: int
    broken: list[str]  # alt text, else the first 40 characters of src, of each image that did not load
    title: str
    browser: str  # e.g. "Chromium 156", from the user agent
    screenshot: Path | None
    seconds: float

    @property
    def ok(self) -> bool:
        """Whether every image loaded."""
        return not self.broken


def find_chromium(chromium: str | None = None) -> str:
    """The Chromium executable: ``chromium`` if given (a path or a name on PATH), else ``chromium`` or
    ``chromium-browser`` on PATH."""
    names = [chromium] if chromium else ["chromium", "chromium-browser"]
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise FileNotFoundError(f"no Chromium executable found (tried {', '.join(names)}); "
                            "install it with `apt-get install chromium` or pass its path")


def run_chromium(chromium: str, args: list[str], page: Path, timeout_s: float) -> str:
    """Chromium's stdout for ``args`` on ``page``, with a fresh profile; RuntimeError on failure or timeout."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        cmd = [chromium, *FLAGS, f"--user-data-dir={profile}", *args, page.resolve().as_uri()]
        # Its own session: on a timeout the whole process group goes, or its helpers would hold the pipes open.
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            raise RuntimeError(f"{page}: Chromium did not finish within {timeout_s:g} s{stderr_tail(err)}") from None
    if proc.returncode != 0:
        raise RuntimeError(f"{page}: Chromium exited with status {proc.returncode}{stderr_tail(err)}")
    return out


def stderr_tail(err: str, lines: int = 10) -> str:
    """The last lines of Chromium's stderr, ready to append to a message."""
    tail = err.strip().splitlines()[-lines:]
    return "; stderr:\n" + "\n".join(tail) if tail else " (no stderr)"


def check_html(path: str | Path, screenshot: Path | None = None, chromium: str | None = None,
               timeout_s: float = 60) -> BrowserCheck:
    """Open ``path`` offline in headless Chromium and count the images that load (``naturalWidth > 0``); with
    ``screenshot``, also save a full-page PNG of it there (1280 px wide). Each Chromium run may take ``timeout_s``.
    FileNotFoundError if there is no Chromium, RuntimeError if it fails or the page never finished loading."""
    start = time.perf_counter()
    path = Path(path)
    executable = find_chromium(chromium)
    try:
        page = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise RuntimeError(f"{path}: unreadable ({err})") from None
    with tempfile.TemporaryDirectory(prefix="browser-check-") as tmp:
        probed = Path(tmp) / path.name
        probed.write_text(page + PROBE, encoding="utf-8")
        dom = run_chromium(executable, [f"--window-size={WIDTH},800", "--virtual-time-budget=10000", "--dump-dom"],
                           probed, timeout_s)
    found = MARKER.findall(dom)
    if not found:
        raise RuntimeError(f"{path}: Chromium's DOM has no #{MARKER_ID} marker (the window load event never ran?)")
    seen = json.loads(html.unescape(found[-1]))
    if screenshot is not None:
        screenshot = Path(screenshot)
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        screenshot.unlink(missing_ok=True)
        height = max(1, min(int(seen["height"]), MAX_HEIGHT))
        run_chromium(executable, [f"--window-size={WIDTH},{height}", f"--screenshot={screenshot.resolve()}"],
                     path, timeout_s)
        if not screenshot.is_file():
            raise RuntimeError(f"{path}: Chromium wrote no screenshot to {screenshot}")
    version = re.search(r"Chrome/(\d+)", seen["userAgent"])
    return BrowserCheck(html=path, images_total=seen["total"], images_loaded=seen["total"] - len(seen["broken"]),
                        broken=seen["broken"], title=seen["title"],
                        browser=f"Chromium {version.group(1)}" if version else seen["userAgent"],
                        screenshot=screenshot, seconds=time.perf_counter() - start)
