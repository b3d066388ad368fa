"""The language registry, and a language added by data alone: tests/fixtures/languages/ru/ (Russian), named
by the `language_dirs` setting, runs through detection, analysis, rewrite and suggestion end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assist import languages
from assist.analysis import Analyzer
from assist.app import create_app
from assist.config import Settings
from assist.datafile import DataFileInvalid
from assist.languages import UnknownLanguageCode, registry
from assist.retrieval.situation import detect_situations
from assist.retrieval.slots import extract_slots
from assist.retrieval.tokenize import tokens
from assist.rewrite import Rewriter

FIXTURES = Path(__file__).parent / "fixtures" / "languages"
RU = FIXTURES / "ru"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def with_ru() -> Iterator[languages.Registry]:
    """The registry with the fixture language; the shipped one again afterwards."""
    try:
        yield languages.use([RU])
    finally:
        languages.use([])


def test_shipped_registry_codes_order_and_folders() -> None:
    r = registry()
    assert r.codes == ("zh-Hans", "zh-Hant", "en")
    assert [lg.name for lg in r.languages] == ["zh", "en"]
    assert r.of("zh-Hant").name == "zh" and r.of("en").path("situations.yml").is_file()
    with pytest.raises(UnknownLanguageCode, match="fr"):
        r.of("fr")


@pytest.mark.parametrize(
    ("text", "lang", "mixed"),
    [
        ("我的快递怎么还没到", "zh-Hans", False),
        ("我的快遞怎麼還沒到", "zh-Hant", False),
        ("where is my order", "en", False),
        ("hi 你好 ok", "zh-Hans", True),  # as many characters as words: Chinese, listed first, wins
        ("order A12345 到了吗", "zh-Hans", True),
        ("123 !!", "en", False),  # no letters: the default
    ],
)
def test_detect(text: str, lang: str, mixed: bool) -> None:
    guess = registry().detect(text, default="en")
    assert (guess.lang, guess.mixed) == (lang, mixed)


def test_converters_and_derived_texts() -> None:
    r = registry()
    assert r.converter("zh-Hans", "zh-Hant")("快递") == "快遞"  # type: ignore[misc]
    assert r.converter("zh-Hans", "en") is None
    assert r.derive({"zh-Hans": "快递", "en": "parcel"}) == {"zh-Hant": "快遞"}
    assert r.derive({"zh-Hant": "快遞"}) == {"zh-Hans": "快递"}
    assert r.spellings("快递") == {"快递", "快遞"}


def test_offset_preserving_conversion() -> None:
    from assist.lang import aligned

    text = "我們的快遞還沒到"
    out = aligned(text, "t2s")
    assert out == "我们的快递还没到" and len(out) == len(text)


def test_piecewise_conversion_is_opencc_s() -> None:
    """assist.lang converts piece by piece, skipping pieces nothing changes: the result is OpenCC's exactly."""
    import random

    import opencc
    import yaml

    from assist import lang

    texts = [d["text"] for d in yaml.safe_load((ROOT / "eval" / "rewrite_corpus.yml").read_text(encoding="utf-8"))]
    rng = random.Random(16)
    keys: list[str] = []
    for name in ("TSPhrases.txt", "STPhrases.txt", "TWVariants.txt"):
        rows = (Path(opencc.__file__).parent / "dictionary" / name).read_text(encoding="utf-8").splitlines()
        found = [row.split("\t")[0] for row in rows if "\t" in row]
        keys += rng.sample(found, min(300, len(found)))
    seps = ["，", "。", " ", "!", "、", "…", "a", "1", ""]
    texts += ["".join(rng.choice(keys) + rng.choice(seps) for _ in range(rng.randint(1, 12))) for _ in range(600)]
    texts.append("，".join(texts[:40]))  # longer than the whole-text cache holds
    for config in ("t2s", "s2tw"):
        reference = opencc.OpenCC(config)
        for text in texts:
            for variant in (text, lang.to_traditional(text), lang.to_simplified(text)):
                assert lang._convert_pieces(config, variant) == reference.convert(variant), (config, variant)
                assert lang.CONVERTERS[config](variant) == reference.convert(variant), (config, variant)
    assert not any(ch.isascii() for ch in lang._changing_chars("t2s") | lang._changing_chars("s2tw"))


def test_manifest_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "xx"
    bad.mkdir()
    (bad / "language.yml").write_text("name: X\ncodes: [xx]\ndetect: {letters: '[x', unit: word}\n", encoding="utf-8")
    with pytest.raises(DataFileInvalid, match=r"(?s)xx/language\.yml.*bad regular expression"):
        languages.load([bad])
    (bad / "language.yml").write_text("name: X\ncodes: [en]\ndetect: {letters: '[x]'}\n", encoding="utf-8")
    with pytest.raises(DataFileInvalid, match="'en' is declared by both 'en' and 'xx'"):
        languages.load([bad])
    with pytest.raises(DataFileInvalid, match="not found"):
        languages.load([tmp_path / "missing"])


def test_fixture_language_by_data_alone(with_ru: languages.Registry) -> None:
    assert with_ru.codes == ("zh-Hans", "zh-Hant", "en", "ru")
    text = "Мой заказ №A12345 до сих пор не пришёл, это безобразие!"
    assert with_ru.detect(text).lang == "ru"
    analysis = Analyzer.load().analyze_message(text)
    assert analysis["lang"] == "ru" and analysis["emotion"]["label"] in {"anger", "frustration"}
    assert "delay" in [h.situation for h in detect_situations(text, "ru")]
    assert extract_slots([text]) == {"order_id": "A12345"}
    assert {"заказ", "безобразие"} <= set(tokens(text)) and "не" not in tokens(text)
    result = Rewriter.load().rewrite("Я не знаю, где ваш заказ.")
    assert result.lang == "ru" and result.rewritten == "Я сейчас уточню, где ваш заказ."
    assert [c.rule for c in result.changes] == ["ru.dont_know.v1"]


def test_fixture_language_through_the_service(tmp_path: Path) -> None:
    """The setting names the folder; the running service detects, analyzes, rewrites and suggests in it."""
    settings = Settings(_env_file=None, data_dir=tmp_path, seed_phrasebank=False, language_dirs=[RU])  # type: ignore[call-arg]
    try:
        with TestClient(create_app(settings)) as client:
            codes = [x["code"] for x in client.get("/api/languages").json()["languages"]]
            assert codes == ["zh-Hans", "zh-Hant", "en", "ru"]
            assert client.get("/api/vocabulary").json()["langs"] == codes
            for key, text, situations in [
                ("ru.delay", "Приносим извинения за задержку, проверяю заказ {order_id} прямо сейчас.", ["delay"]),
                ("ru.refund", "Оформим возврат денег сегодня же.", ["refund_return"]),
            ]:
                r = client.post(
                    "/api/phrases",
                    json={"key": key, "text": {"ru": text}, "situations": situations, "status": "approved"},
                )
                assert r.status_code == 201, r.text
            message = "Мой заказ №A12345 до сих пор не пришёл, это безобразие!"
            analysis = client.post("/api/analyze", json={"text": message}).json()
            assert analysis["lang"] == "ru"
            rewrite = client.post("/api/rewrite", json={"text": "Я не знаю, где ваш заказ.", "lang": "ru"}).json()
            assert rewrite["rewritten"] == "Я сейчас уточню, где ваш заказ."
            body = client.post("/api/suggest", json={"text": message, "k": 2}).json()
            assert body["lang"] == "ru" and "delay" in {s["situation"] for s in body["situations"]}
            assert body["items"][0]["text"] == "Приносим извинения за задержку, проверяю заказ A12345 прямо сейчас."
            csv = client.get("/api/phrases/export", params={"format": "csv"}).text
            assert csv.splitlines()[0].startswith("key,zh-Hans,zh-Hant,en,ru,")
            assert client.post("/api/phrases", json={"text": {"fr": "Bonjour"}}).status_code == 422
    finally:
        languages.use([])


def test_setting_from_the_environment_reaches_the_cli() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ASSIST_LANGUAGE_DIRS": json.dumps([str(RU)])}
    out = subprocess.run(
        [sys.executable, "-m", "assist", "rewrite", "--json", "--lang", "ru", "Я не знаю."],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    assert json.loads(out.stdout)["rewritten"] == "Я сейчас уточню."
