"""GET /languages: the registered languages (assist.languages), for clients that list or edit texts per code."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from assist.languages import registry

router = APIRouter(tags=["health"])


class LanguageCode(BaseModel):
    code: str = Field(description="language code, e.g. zh-Hant")
    label: str = Field(description="how the code is shown (the manifest's label, else the code)")
    language: str = Field(description="the language folder the code belongs to, e.g. zh")
    name: str = Field(description="the language's name, e.g. Chinese")
    derived_from: list[str] = Field(description="codes a phrase text in this code is derived from when not given")


class LanguagesOut(BaseModel):
    languages: list[LanguageCode]


@router.get("/languages", response_model=LanguagesOut)
def read_languages() -> LanguagesOut:
    """Every registered language code in registry order (the order of CSV columns and editor fields)."""
    out = []
    for lg in registry().languages:
        convert = lg.manifest.convert
        for code in lg.codes:
            sources = [c for c in lg.codes if code in convert.get(c, {})]
            out.append(
                LanguageCode(
                    code=code,
                    label=lg.manifest.labels.get(code, code),
                    language=lg.name,
                    name=lg.manifest.name,
                    derived_from=sources,
                )
            )
    return LanguagesOut(languages=out)
