"""`assist suggest` from the shell, over the shipped bank and the real model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from assist.cli import main


def test_suggest_cli_text_and_conversation(runner: CliRunner, shipped_db: Path, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    shutil.copy(shipped_db, tmp_path / "data" / "assist.db")
    r = runner.invoke(main, ["suggest", "--json", "--k", "2", "能不能便宜点？别家比你们便宜"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.output[r.output.index("{"):])
    assert body["lang"] == "zh-Hans" and len(body["items"]) == 2
    assert "price" in {s["situation"] for s in body["situations"]}

    conv = tmp_path / "conv.jsonl"
    conv.write_text(
        '{"role": "customer", "text": "my order #B77881 is late", "t": 0}\n'
        '{"role": "agent", "text": "Sorry about that, checking now.", "t": 20}\n'
        '{"role": "customer", "text": "any update??", "t": 95}\n', encoding="utf-8")
    r = runner.invoke(main, ["suggest", "--conversation", str(conv), "--set", "customer_name=Sam"])
    assert r.exit_code == 0, r.output
    assert "1. " in r.output and "situations: delay" in r.output


def test_suggest_cli_bad_input(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(main, ["suggest"]).exit_code == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"role": "customer", "text": "hi"}\n{"role": "boss"}\n', encoding="utf-8")
    r = runner.invoke(main, ["suggest", "--conversation", str(bad)])
    assert r.exit_code == 2 and "bad.jsonl:2" in r.output
