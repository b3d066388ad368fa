"""An installed (non-editable) wheel runs: the shipped phrase bank and the web surfaces are package data, and
the settings' defaults point at the package's copies."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import assist
from assist.config import Settings

PACKAGE = Path(assist.__file__).resolve().parent
ROOT = PACKAGE.parent


def test_defaults_point_inside_the_package() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.phrasebank_dir == PACKAGE / "phrasebank" and any(settings.phrasebank_dir.glob("*.yml"))
    assert settings.web_dir == PACKAGE / "webui" and (settings.web_dir / "index.html").is_file()


@pytest.mark.slow
def test_wheel_carries_phrasebank_and_web(tmp_path: Path) -> None:
    """Build the wheel from a copy of the sources (an in-tree build would leave build/ and *.egg-info here)."""
    src = tmp_path / "src"
    shutil.copytree(PACKAGE, src / "assist", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = (tmp_path / "dist").glob("agent_assist-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        f"assist/{p.relative_to(PACKAGE).as_posix()}"
        for folder in ("phrasebank", "webui")
        for p in (PACKAGE / folder).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert len(expected) > 20 and expected <= names, sorted(expected - names)
    assert "assist/webui/static/js/sidebar.js" in names and "assist/phrasebank/greeting.yml" in names
    assert "assist/data/vectors.npz" in names  # the shipped bank's vectors: a first start encodes nothing of it
