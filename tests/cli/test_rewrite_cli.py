"""`assist rewrite` and `assist eval rewrite` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from assist.cli import main


def test_rewrite_json(runner: CliRunner) -> None:
    result = runner.invoke(main, ["rewrite", "--json", "我不知道"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert set(body) == {"lang", "original", "rewritten", "changed", "changes", "flags"}
    assert body["rewritten"] == "我会为您查询后尽快回复" and body["changes"][0]["rule"] == "zh.dont_know.v1"


def test_rewrite_lang_option_and_traditional(runner: CliRunner) -> None:
    body = json.loads(runner.invoke(main, ["rewrite", "--json", "--lang", "zh-Hant", "您必須先登入。"]).output)
    assert body["lang"] == "zh-Hant" and body["rewritten"] == "請您先登入。"
    assert runner.invoke(main, ["rewrite", "--lang", "fr", "x"]).exit_code == 2


def test_rewrite_human_and_stdin(runner: CliRunner) -> None:
    result = runner.invoke(main, ["rewrite"], input="You must sign in.")
    assert result.exit_code == 0 and "Please sign in." in result.output
    assert runner.invoke(main, ["rewrite", "--json", ""]).exit_code == 0


def test_eval_rewrite_default_set(runner: CliRunner) -> None:
    result = runner.invoke(main, ["eval", "rewrite", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["overall"]["drafts"] >= 150
    assert set(report["by_lang"]) == {"en", "zh-Hans", "zh-Hant"}
    assert report["overall"]["clean_changed"] == 0


def test_eval_rewrite_custom_set_lists_failures(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "set.yml"
    path.write_text(
        '- {id: a, lang: en, text: "I do not know!!", negative: ["do not know"]}\n'
        '- {id: b, lang: en, text: "Totally fine text."}\n'
        '- {id: c, lang: en, text: "Hmm, negative but unknown to rules.", negative: ["unknown"]}\n',
        encoding="utf-8",
    )
    result = runner.invoke(main, ["eval", "rewrite", "--set", str(path)])
    assert result.exit_code == 0, result.output
    assert "FAIL c" in result.output and "clean untouched 1/1" in result.output
    bad = tmp_path / "bad.yml"
    bad.write_text("- {id: x}\n", encoding="utf-8")
    assert runner.invoke(main, ["eval", "rewrite", "--set", str(bad)]).exit_code == 2
