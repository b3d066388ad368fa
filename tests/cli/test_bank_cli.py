"""`assist bank …` and `assist token …` against a real SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

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
