"""Text made valid at the edge: no lone UTF-16 surrogate gets past where a client's text comes in.

JSON can spell a lone surrogate (`"\\ud800"`), and a widget sends one when it cuts a string inside an emoji;
Python decodes it into a `str` that cannot be encoded as UTF-8, so every later step that writes it (a
frame, a REST answer, the encoder's tokenizer) fails. Each lone surrogate becomes U+FFFD REPLACEMENT
CHARACTER, which is what a browser does when it turns such a JavaScript string into UTF-8 (WebIDL's
USVString conversion; the Encoding Standard's TextEncoder), so the service stores what the browser would
have sent had it encoded the text itself. A valid surrogate pair in JSON (`"\\ud83d\\ude00"`) is decoded into
one character by the JSON parser and is kept.
"""

from __future__ import annotations

import re
from typing import Any

REPLACEMENT = "\ufffd"
_LONE = re.compile("[\ud800-\udfff]")  # in a decoded `str` every surrogate left is a lone one


def valid_text(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD (the same object when there is none)."""
    if text.isascii():
        return text
    return _LONE.sub(REPLACEMENT, text)


def valid_json(value: Any) -> Any:
    """Decoded JSON with every string (keys too) made valid, recursively."""
    if isinstance(value, str):
        return valid_text(value)
    if isinstance(value, dict):
        return {valid_text(k) if isinstance(k, str) else k: valid_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [valid_json(v) for v in value]
    return value
