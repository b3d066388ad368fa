"""Shared by the browser tests: where Chromium is, how it starts, where screenshots go."""

from __future__ import annotations

import os
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]


def shot(page, name: str, tmp_path: Path, full_page: bool = True) -> None:  # type: ignore[no-untyped-def]
    """Screenshots go to docs/screenshots/ when ASSIST_SCREENSHOTS=1, else to the test's temp dir."""
    folder = ROOT / "docs" / "screenshots" if os.environ.get("ASSIST_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=full_page)
