"""Telegram-HTML parsing: plain text, entities (UTF-16 offsets) and Telegram's errors."""

from __future__ import annotations

import pytest

from sandbox.fake_telegram import ApiError, parse_html, to_html


def test_plain_text_and_entities() -> None:
    parsed = parse_html(
        '  <b>Total:</b> 5 &lt; 6 &amp; <a href="https://t.me/x">link</a> '
        "<tg-spoiler>secret</tg-spoiler> A&B &#128512;\n"
    )
    assert parsed.text == "Total: 5 < 6 & link secret A&B 😀"
    assert [(e.type, e.text) for e in parsed.entities] == [
        ("bold", "Total:"),
        ("text_link", "link"),
        ("spoiler", "secret"),
    ]
    assert parsed.entities[1].url == "https://t.me/x"


def test_offsets_are_utf16_and_nesting_round_trips() -> None:
    source = "😀 <b>bold <i>both</i></b> <code>X-1</code>"
    parsed = parse_html(source)
    bold, italic, code = parsed.entities
    assert (bold.offset, bold.length) == (3, 9)  # the emoji is two UTF-16 code units
    assert (italic.type, italic.text) == ("italic", "both")
    assert (code.type, code.text) == ("code", "X-1")
    assert to_html(parsed.text, parsed.entities) == source


def test_pre_with_language() -> None:
    parsed = parse_html('<pre><code class="language-python">print(1)</code></pre>')
    (pre,) = parsed.entities
    assert (pre.type, pre.language, pre.text) == ("pre", "python", "print(1)")


@pytest.mark.parametrize(
    ("source", "detail"),
    [
        ("a<br>b", 'Unsupported start tag "br" at byte offset 1'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ("ü <div>x</div>", 'Unsupported start tag "div" at byte offset 3'),
    ],
)
def test_invalid_html_uses_telegrams_texts(source: str, detail: str) -> None:
    with pytest.raises(ApiError) as error:
        parse_html(source)
    assert error.value.description == f"Bad Request: can't parse entities: {detail}"
