"""Issue 17, item 15: honest encoding detection, an unclosed CSV quote named by its row, NUL bytes never stored."""

from __future__ import annotations

from assist.bank import io

HEADER = "key,en,zh-Hans,situations\n"


def _reasons(parsed: io.Parsed) -> str:
    return " | ".join(f"{e.line}: {e.reason}" for e in parsed.errors)


def test_cp1252_is_not_taken_for_gb18030() -> None:
    data = (HEADER + "g.1,Grüße aus München,,greeting\n").encode("cp1252")
    parsed = io.parse(data, "csv")
    assert not parsed.entries
    assert "Windows-1252" in _reasons(parsed) and "UTF-8" in _reasons(parsed)


def test_gbk_chinese_is_still_read() -> None:
    data = (HEADER + "g.1,Hello,您好！感谢您的耐心等待，我們會處理。,greeting\n").encode("gb18030")
    parsed = io.parse(data, "csv")
    assert not parsed.errors and parsed.encoding == "gb18030"
    assert parsed.entries[0].text["zh-Hans"].startswith("您好")


def test_an_unclosed_quote_does_not_swallow_the_next_row() -> None:
    text = HEADER + 'q.1,"Hello there,你好,greeting\nq.2,Bye,再见,closing\nq.3,Ok,好,greeting\n'
    parsed = io.parse(text.encode(), "csv")
    assert not parsed.entries or all(e.key != "q.1" for e in parsed.entries)
    assert parsed.errors and parsed.errors[0].line == 2 and "quote" in parsed.errors[0].reason


def test_an_unclosed_quote_at_the_end_is_named() -> None:
    text = HEADER + 'q.1,Hello,你好,greeting\nq.2,"Bye,再见,closing\n'
    parsed = io.parse(text.encode(), "csv")
    assert parsed.errors and parsed.errors[0].line == 3 and "quote" in parsed.errors[0].reason


def test_a_quoted_line_break_inside_one_field_is_still_fine() -> None:
    text = HEADER + 'q.1,"Hello\nthere",你好,greeting\nq.2,Bye,再见,closing\n'
    parsed = io.parse(text.encode(), "csv")
    assert not parsed.errors, _reasons(parsed)
    assert [e.key for e in parsed.entries] == ["q.1", "q.2"]


def test_nul_bytes_are_refused_in_every_format() -> None:
    for fmt, data in (
        ("csv", (HEADER + "n.1,Hel\x00lo,你好,greeting\n").encode()),
        ("jsonl", b'{"key": "n.1", "text": {"en": "Hel\\u0000lo"}}\n'),
        ("yaml", b'- key: n.1\n  text: {en: "Hel\\0lo"}\n'),
    ):
        parsed = io.parse(data, fmt)
        assert not parsed.entries and parsed.errors, fmt
        assert "NUL" in _reasons(parsed), (fmt, _reasons(parsed))
