"""`assist analyze` and `assist eval analysis` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from assist.cli import main


def test_analyze_text_json(runner: CliRunner) -> None:
    result = runner.invoke(main, ["analyze", "--json", "Where is my order?! I want a MANAGER"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["lang"] == "en"
    assert {"escalation", "caps", "exclamation"} <= {c["kind"] for c in body["emotion"]["cues"]}


def test_analyze_conversation_file(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "conv.jsonl"
    lines = [
        {"role": "customer", "text": "我的快递什么时候到", "t": 0},
        {"role": "agent", "text": "您好，正在为您查询", "t": 20},
        {"role": "customer", "text": "我的快递到底什么时候到啊", "t": 60},
    ]
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    result = runner.invoke(main, ["analyze", "--json", "--conversation", str(path)])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    rep = [c for c in body["emotion"]["cues"] if c["kind"] == "repetition"]
    assert rep and rep[0]["message"] == 2 and rep[0]["ref"] == [0]


def test_analyze_human_output(runner: CliRunner) -> None:
    result = runner.invoke(main, ["analyze", "唉，又坏了"])
    assert result.exit_code == 0
    assert "emotion:" in result.output and "cue sigh" in result.output


def test_analyze_needs_exactly_one_input(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(main, ["analyze"]).exit_code == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n", encoding="utf-8")
    result = runner.invoke(main, ["analyze", "--conversation", str(bad)])
    assert result.exit_code == 2 and "not JSON" in result.output


def test_eval_analysis_json(runner: CliRunner) -> None:
    result = runner.invoke(main, ["eval", "analysis", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["messages"]["count"] >= 200
    assert report["conversations"]["count"] >= 60
    assert 0 <= report["messages"]["emotion"]["macro_f1"] <= 1
