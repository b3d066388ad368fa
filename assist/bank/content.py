"""Reading the shipped phrase bank (`assist/phrasebank/*.yml`) and checking its citations against the seeds."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import opencc
import yaml

from assist.bank.schema import PhraseIn

# Seed 003 is Traditional Chinese with pinyin glosses after some characters: 會(huì).
_PINYIN_GLOSS = re.compile(r"\([a-zA-Zàáǎāèéěēìíǐīòóǒōùúǔūǖǘǚǜüńňǹḿ]{1,8}\)")
_SPACE = re.compile(r"\s+")
# libyaml's safe loader where PyYAML has it: the shipped bank with its examples parses in a tenth of the time.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def normalize_seed_text(text: str) -> str:
    """Simplified script, no pinyin glosses, no whitespace: the form citations are checked against."""
    return _SPACE.sub("", _t2s().convert(_PINYIN_GLOSS.sub("", text)))


def load_shipped(directory: Path) -> list[tuple[Path, PhraseIn]]:
    """Every entry of every `*.yml` under `directory`, validated, with the file it came from."""
    entries: list[tuple[Path, PhraseIn]] = []
    for path in sorted(directory.rglob("*.yml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER) or []
        if not isinstance(data, list):
            raise ValueError(f"{path}: expected a list of phrases at the top level")
        entries.extend((path, PhraseIn.model_validate(item)) for item in data)
    return entries
