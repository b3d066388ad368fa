"""Slot extraction examples from data/slots.yml, and filling."""

from __future__ import annotations

import pytest

from assist.retrieval.slots import extract_slots, fill, load_slot_rules

CASES = [
    pytest.param(name, ex.text, ex.expect, id=f"{name}.{i}")
    for name, rule in load_slot_rules().items()
    for i, ex in enumerate(rule.examples)
]


@pytest.mark.parametrize(("slot", "text", "expect"), CASES)
def test_slot_examples(slot: str, text: str, expect: str | None) -> None:
    assert extract_slots([text]).get(slot) == expect


def test_slots_latest_message_wins() -> None:
    assert extract_slots(["订单号 BBBBB2", "订单号 AAAAA1"])["order_id"] == "BBBBB2"


def test_fill_keeps_unknown_slots_visible() -> None:
    text, missing = fill("{customer_name}，订单{order_id}预计{eta}送达，{eta}前联系您", {"order_id": "A123"})
    assert text == "{customer_name}，订单A123预计{eta}送达，{eta}前联系您"
    assert missing == ["customer_name", "eta"]
