"""`assist suggest` from the shell, over the shipped bank and the real model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from assist.cli import main


def test_suggest_cli_text_and_conversation(runner: CliRunner, shipped_db: Path, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    shutil.copy(shipped_db, tmp_path / "data" / "assist.db")
    r = runner.invoke(main, ["suggest", "--json", "--k", "2", "能不能便宜点？别家比你们便宜"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.output[r.output.index("{") :])
    assert body["lang"] == "zh-Hans" and len(body["items"]) == 2
    assert "price" in {s["situation"] for s in body["situations"]}

    conv = tmp_path / "conv.jsonl"
    conv.write_text(
        '{"role": "customer", "text": "my order #B77881 is late", "t": 0}\n'
        '{"role": "agent", "text": "Sorry about that, checking now.", "t": 20}\n'
        '{"role": "customer", "text": "any update??", "t": 95}\n',
        encoding="utf-8",
    )
    r = runner.invoke(main, ["suggest", "--conversation", str(conv), "--set", "customer_name=Sam"])
    assert r.exit_code == 0, r.output
    assert "1. " in r.output and "situations: delay" in r.output


@pytest.mark.slow  # `assist suggest` loads the model
def test_suggest_cli_bad_input(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(main, ["suggest"]).exit_code == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"role": "customer", "text": "hi"}\n{"role": "boss"}\n', encoding="utf-8")
    r = runner.invoke(main, ["suggest", "--conversation", str(bad)])
    assert r.exit_code == 2 and "bad.jsonl:2" in r.output


def test_eval_retrieval_cli_on_a_small_set(runner: CliRunner, shipped_db: Path, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    shutil.copy(shipped_db, tmp_path / "data" / "assist.db")
    labelled = tmp_path / "set.yml"
    labelled.write_text(
        '- {id: a, lang: en, text: "my parcel is a week late, where is it??", situations: [delay, delivery],'
        " emotions: [frustration, anger]}\n"
        '- {id: b, lang: zh-Hant, text: "退款申請兩個禮拜了還沒退回來", situations: [refund_return, delay],'
        " emotions: [frustration]}\n",
        encoding="utf-8",
    )
    r = runner.invoke(main, ["eval", "retrieval", "--set", str(labelled), "--json"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.output[r.output.index("{") :])
    assert set(report["channels"]) == {"dense", "lexical", "fused", "rerank"}
    rerank = report["channels"]["rerank"]
    assert rerank["all"]["n"] == 2 and rerank["en"]["hit@3"] == 1.0 and rerank["zh-Hant"]["hit@3"] == 1.0

    labelled.write_text(
        '- {id: a, lang: en, text: "hi", situations: [weather], emotions: [neutral]}\n', encoding="utf-8"
    )
    r = runner.invoke(main, ["eval", "retrieval", "--set", str(labelled)])
    assert r.exit_code == 2 and "unknown labels ['weather']" in r.output
