"""`assist bank …` and `assist token …` against a real SQLite store."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import yaml
from click.testing import CliRunner

from assist.cli import main
from tests.utils import phrase


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text(yaml.safe_dump(rows, allow_unicode=True), encoding="utf-8")
    return path


def test_bank_import_dry_run_then_import_then_stats(runner: CliRunner, tmp_path: Path) -> None:
    f = _write(tmp_path / "b.yml", [phrase("c.1"), phrase("c.2", status="draft")])
    r = runner.invoke(main, ["bank", "import", str(f), "--dry-run"])
    assert r.exit_code == 0 and "would import: 2 new" in r.output
    r = runner.invoke(main, ["bank", "stats", "--json"])
    assert json.loads(r.output)["phrases"]["total"] == 0
    r = runner.invoke(main, ["bank", "import", str(f), "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["created"] == 2
    r = runner.invoke(main, ["bank", "stats"])
    assert "phrases: 2" in r.output and "approved: 1" in r.output and "draft: 1" in r.output


def test_bank_import_bad_file_lists_rows_and_exits_1(runner: CliRunner, tmp_path: Path) -> None:
    f = _write(tmp_path / "b.yml", [phrase("ok"), phrase("bad", situations=["weather"])])
    r = runner.invoke(main, ["bank", "import", str(f)])
    assert r.exit_code == 1
    second_row = [n for n, line in enumerate(f.read_text().splitlines(), 1) if line.startswith("- ")][1]
    assert f"b.yml:{second_row}: [bad] situations: unknown situation 'weather'" in r.output
    assert "nothing was imported" in r.output
    r = runner.invoke(main, ["bank", "stats", "--json"])
    assert json.loads(r.output)["phrases"]["total"] == 0


def test_bank_export_round_trips_through_files(runner: CliRunner, tmp_path: Path) -> None:
    f = _write(tmp_path / "b.yml", [phrase("e.1"), phrase("e.2", teams=["vip"])])
    runner.invoke(main, ["bank", "import", str(f)])
    for fmt in ("yaml", "csv", "jsonl"):
        out = tmp_path / f"out.{fmt}"
        r = runner.invoke(main, ["bank", "export", "--format", fmt, "--out", str(out)])
        assert r.exit_code == 0 and out.exists()
        r = runner.invoke(main, ["bank", "import", str(out), "--json"])
        assert json.loads(r.output)["unchanged"] == 2, r.output
    r = runner.invoke(main, ["bank", "export", "--format", "jsonl"])
    assert [json.loads(line)["key"] for line in r.output.splitlines()] == ["e.1", "e.2"]


def test_bank_validate(runner: CliRunner, tmp_path: Path) -> None:
    good = _write(tmp_path / "good.yml", [phrase("v.1")])
    r = runner.invoke(main, ["bank", "validate", str(good)])
    assert r.exit_code == 0 and "1 phrase(s), all valid" in r.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes("key,en,emotions\nv.1,hi,rage\nv.1,hi,\n".encode("gbk"))
    r = runner.invoke(main, ["bank", "validate", str(bad), "--json"])
    assert r.exit_code == 1
    errors = json.loads(r.output)["errors"]
    assert [e["line"] for e in errors] == [2] and "rage" in errors[0]["reason"]
    r = runner.invoke(main, ["bank", "validate", str(tmp_path / "bank.xlsx")])
    assert r.exit_code == 2  # missing file: click's usage error


def test_token_create_list_revoke(runner: CliRunner) -> None:
    r = runner.invoke(main, ["token", "create", "--role", "agent", "--name", "ann", "--team", "sales", "--json"])
    assert r.exit_code == 0
    created = json.loads(r.output)
    assert created["token"].startswith("aa_") and created["role"] == "agent"
    r = runner.invoke(main, ["token", "list", "--json"])
    listed = json.loads(r.output)
    assert listed[0]["name"] == "ann" and "token" not in listed[0] and "token_hash" not in listed[0]
    assert runner.invoke(main, ["token", "revoke", str(created["id"])]).exit_code == 0
    r = runner.invoke(main, ["token", "list"])
    assert "revoked" in r.output
    assert runner.invoke(main, ["token", "revoke", "99"]).exit_code == 1
    assert runner.invoke(main, ["token", "create", "--role", "boss", "--name", "x"]).exit_code == 2


def test_bank_csv_carries_examples_one_per_line(runner: CliRunner, tmp_path: Path) -> None:
    f = tmp_path / "b.csv"
    f.write_text(
        "key,en,situations,emotions,examples_en,examples_zh-Hant\r\n"
        'x.1,Hello.,greeting,neutral,"hi\r\nanyone there??",喂\r\n',
        encoding="utf-8",
    )
    r = runner.invoke(main, ["bank", "import", str(f), "--json"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, ["bank", "export", "--format", "yaml"])
    assert yaml.safe_load(r.output)[0]["examples"] == {"zh-Hant": ["喂"], "en": ["hi", "anyone there??"]}
    r = runner.invoke(main, ["bank", "export", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(r.output)))
    assert list(rows[0])[-3:] == ["examples_zh-Hans", "examples_zh-Hant", "examples_en"]
    assert (rows[0]["examples_zh-Hant"], rows[0]["examples_en"]) == ("喂", "hi\nanyone there??")
    bad = tmp_path / "bad.csv"
    bad.write_text("key,en,examples_en\r\nx.2,Hi.," + "x" * 501 + "\r\n", encoding="utf-8")
    r = runner.invoke(main, ["bank", "validate", str(bad)])
    assert r.exit_code == 1 and "bad.csv:2: [x.2] examples: an example in en is 501 characters" in r.output


def test_bank_vectors_writes_every_text_and_example_and_keeps_known_ones(
    runner: CliRunner, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from assist import services
    from assist.bank.vectors import ShippedVectors
    from assist.retrieval.embedder import text_hash
    from tests.fakes import HashedEncoder

    encoder = HashedEncoder()
    monkeypatch.setattr(services, "settings_embedder", lambda retrieval, load=True: encoder)
    bank = tmp_path / "bank"
    bank.mkdir()
    _write(bank / "a.yml", [phrase("v.1", examples={"en": ["where's my stuff"], "zh-Hant": ["仲未到"]})])
    out = tmp_path / "vectors.npz"
    r = runner.invoke(main, ["bank", "vectors", "--out", str(out), "--phrasebank", str(bank)])
    assert r.exit_code == 0, r.output
    assert "3 texts, 0 kept, 3 to encode" in r.output  # zh-Hans, the derived zh-Hant and en
    assert "2 texts, 0 kept, 2 to encode" in r.output
    shipped = ShippedVectors(out)
    texts = ["我们会为您处理好v.1。", "我們會為您處理好v.1。", "We'll take care of v.1 for you."]
    assert shipped.hashes(encoder.name) == {text_hash(t) for t in [*texts, "where's my stuff", "仲未到"]}
    got = shipped.lookup(encoder.name, [text_hash("仲未到")])[text_hash("仲未到")]
    assert np.allclose(got, encoder.encode(["仲未到"])[0], atol=1e-3)  # float16
    r = runner.invoke(main, ["bank", "vectors", "--out", str(out), "--phrasebank", str(bank)])
    assert "3 texts, 3 kept, 0 to encode" in r.output and "2 texts, 2 kept, 0 to encode" in r.output
