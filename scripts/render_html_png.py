"""Render an HTML file to a PNG with headless Chromium, to look at a report the way a reader's browser shows it.

    python scripts/render_html_png.py report.html out.png [--width 1200] [--height 3000]

A review aid, not part of the test suite (tests must not need a browser). Chromium is found on PATH as chromium,
chromium-browser, google-chrome or google-chrome-stable; on Debian/Ubuntu install it with
``apt-get install -y chromium``. Chromium's ``--screenshot`` captures the window only, so give ``--height`` big
enough for the page (the default 3000 px shows the first sections of a report).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from tieuchi.outputs.posting import BROWSERS, find_browser  # one list of the browsers tieuchi prints with


def render(html: Path, png: Path, width: int = 1200, height: int = 3000, timeout: float = 120) -> Path:
    """Screenshot ``html`` into ``png``; raise RuntimeError saying what to do when it cannot."""
    if not html.is_file():
        raise RuntimeError(f"{html}: no such file. Give the path of an HTML file, e.g. report.html.")
    browser = find_browser()
    if browser is None:
        raise RuntimeError(f"no Chromium found on PATH (looked for {', '.join(BROWSERS)}). Install it, e.g. "
                           "'apt-get install -y chromium' on Debian/Ubuntu, then run this again.")
    png.parent.mkdir(parents=True, exist_ok=True)
    if png.exists():
        png.unlink()  # so that a stale PNG is never mistaken for this run's
    # a throw-away profile: a second Chromium (or a locked default profile) must not stop the screenshot
    with tempfile.TemporaryDirectory(prefix="render_html_png_") as profile:
        cmd = [browser, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
               f"--user-data-dir={profile}", f"--screenshot={png.resolve()}", f"--window-size={width},{height}",
               html.resolve().as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"{browser} did not finish within {timeout:.0f} s; try again or a smaller --height.") \
                from None
    if proc.returncode != 0 or not png.is_file():
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        raise RuntimeError(f"{browser} exited with {proc.returncode} and wrote no {png}:\n{tail}")
    return png


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render an HTML file to a PNG with headless Chromium.")
    parser.add_argument("html", type=Path, help="the HTML file, e.g. report.html")
    parser.add_argument("png", type=Path, help="the PNG to write")
    parser.add_argument("--width", type=int, default=1200, help="window width in CSS pixels (default 1200)")
    parser.add_argument("--height", type=int, default=3000, help="window height in CSS pixels (default 3000)")
    args = parser.parse_args(argv)
    try:
        out = render(args.html, args.png, args.width, args.height)
    except RuntimeError as exc:
        print(f"render_html_png: {exc}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
