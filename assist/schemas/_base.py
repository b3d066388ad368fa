"""The base of every domain model: field names or aliases in, aliases out (`for`), unknown keys refused."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", serialize_by_alias=True, validate_by_name=True, validate_by_alias=True)


def omitted_when_empty(default: Any = None, **kwargs: Any) -> Any:
    """A field left out of the JSON when empty (None, [] or False), as the dicts it replaces left it out."""
    if "default_factory" in kwargs:
        return Field(exclude_if=lambda v: not v, **kwargs)
    return Field(default, exclude_if=lambda v: not v, **kwargs)
