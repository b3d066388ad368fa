"""Import and export over HTTP, shared by the phrase bank (/phrases/import, /phrases/export) and the guard's rules
(/guard/import, /guard/export): the same size limit, format guess, parse on a worker thread and all-or-nothing
refusal of a file with bad rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, Protocol, TypeVar

from anyio import to_thread
from fastapi import Response, UploadFile

from assist.bank.io import MEDIA_TYPES, guess_format
from assist.config import Settings
from assist.errors import ImportInvalid, InvalidInput, PayloadTooLarge

Format = Literal["yaml", "csv", "jsonl"]


class ParsedFile(Protocol):
    errors: Any
    encoding: str


P = TypeVar("P", bound=ParsedFile)


def export_response(body: str, fmt: Format, stem: str) -> Response:
    """A download: `<stem>.yml|csv|jsonl` with the format's media type."""
    ext = "yml" if fmt == "yaml" else fmt
    return Response(
        body, media_type=MEDIA_TYPES[fmt], headers={"Content-Disposition": f'attachment; filename="{stem}.{ext}"'}
    )


async def read_upload(
    file: UploadFile, settings: Settings, fmt: Format | None, parse: Callable[[bytes, str], P]
) -> tuple[str, P]:
    """(format, parsed rows) of an uploaded file; 413 past `max_import_bytes`, 422 when the format cannot be
    told, 409 `import_invalid` with every bad row when any row is bad (nothing is written). Parsing is CPU
    work: it runs on a worker thread, so sockets and other requests go on meanwhile."""
    data = await file.read(settings.max_import_bytes + 1)
    if len(data) > settings.max_import_bytes:
        raise PayloadTooLarge(f"the file is larger than {settings.max_import_bytes} bytes; split it")
    chosen = fmt or guess_format(file.filename)
    if chosen is None:
        raise InvalidInput("cannot tell the format from the file name; pass ?format=yaml|csv|jsonl")
    parsed = await to_thread.run_sync(parse, data, chosen)
    if parsed.errors:
        raise ImportInvalid(
            f"{len(parsed.errors)} bad row(s); nothing was imported",
            errors=[e.as_dict() for e in parsed.errors],
            format=chosen,
            encoding=parsed.encoding,
        )
    return chosen, parsed
