"""Bounds shared by REST bodies, query parameters, websocket frames and import rows (issue 17, items 11 and 14):
finite timestamps, ids that fit every store, text without NUL or lone surrogates. No imports from the rest of
the package, so any module may use it."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

MAX_SECONDS = 253_402_300_799.0  # 9999-12-31T23:59:59Z: epoch seconds past this are a client's bug
MAX_ROW_ID = 2**31 - 1  # ids, versions and offsets fit PostgreSQL's INTEGER (and SQLite's 64-bit integers)

Seconds = Annotated[
    float,
    Field(
        ge=0,
        le=MAX_SECONDS,
        allow_inf_nan=False,
        description="seconds (epoch or since the conversation began), finite, 0 to 253402300799 (year 9999)",
    ),
]
RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]
Version = Annotated[int, Field(ge=0, le=MAX_ROW_ID)]


def refuse_bad_chars(value: str) -> str:
    """Refuse what no database stores and no client means: NUL characters and lone UTF-16 surrogates (half of an
    emoji cut by a client). The error names the problem, never the text."""
    if "\x00" in value:
        raise ValueError("contains a NUL character (\\u0000)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"contains a lone surrogate at position {exc.start} (invalid Unicode)") from None
    return value


CleanStr = Annotated[str, AfterValidator(refuse_bad_chars)]
