"""`assist serve --demo`: a scripted customer plays into conversation "demo" so a newcomer sees the product work."""

from __future__ import annotations

import asyncio
import logging
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

logger = logging.getLogger(__name__)


class DemoLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    after: float = Field(ge=0)
    role: Literal["customer", "agent"]
    text: str


class DemoScript(BaseModel):
    model_config = ConfigDict(extra="forbid")
    conversation_id: str
    pause_between_rounds: float = Field(ge=1)
    lines: list[DemoLine] = Field(min_length=1)


def load_script() -> DemoScript:
    text = resources.files("assist").joinpath("data").joinpath("demo.yml").read_text(encoding="utf-8")
    return DemoScript.model_validate(yaml.safe_load(text))


async def play_demo(hub: Any, script: DemoScript | None = None, rounds: int | None = None) -> None:
    """Feed the script into the hub line by line; again after a pause, `rounds` times (forever when None)."""
    script = script or load_script()
    logger.info(
        "demo: playing a scripted customer into conversation %r; open /?conversation=%s",
        script.conversation_id,
        script.conversation_id,
    )
    played = 0
    while rounds is None or played < rounds:
        for line in script.lines:
            await asyncio.sleep(line.after)
            if hub.closing:
                return
            await hub.feed(script.conversation_id, line.role, line.text)
        played += 1
        await asyncio.sleep(script.pause_between_rounds)
