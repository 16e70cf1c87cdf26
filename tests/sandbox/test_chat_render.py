"""A message's text and entities as the chat page's HTML: every kind, nesting, escaping."""

from __future__ import annotations

import pytest

from sandbox.chat.render import message_html
from sandbox.fake_telegram import parse_html
from sandbox.fake_telegram.formatting import from_entities


@pytest.mark.parametrize(
    ("telegram_html", "page_html"),
    [
        ("<b>bold</b>", "<strong>bold</strong>"),
        ("<i>italic</i>", "<em>italic</em>"),
        ("<u>under</u>", "<u>under</u>"),
        ("<s>gone</s>", "<s>gone</s>"),
        ("<code>ABC-123</code>", '<code data-testid="code">ABC-123</code>'),
        ("<pre>a\nb</pre>", '<pre data-testid="pre" data-language=""><code>a\nb</code></pre>'),
        (
            '<pre><code class="language-python">x = 1</code></pre>',
            '<pre data-testid="pre" data-language="python"><code>x = 1</code></pre>',
        ),
        (
            '<a href="https://example.com/?a=1&amp;b=2">site</a>',
            '<a href="https://example.com/?a=1&amp;b=2" target="_blank" '
            'rel="noopener noreferrer">site</a>',
        ),
        (
            "<tg-spoiler>secret</tg-spoiler>",
            '<span class="spoiler" data-testid="spoiler" title="spoiler">secret</span>',
        ),
        ("<blockquote>quoted</blockquote>", "<blockquote>quoted</blockquote>"),
        (
            "<blockquote expandable>long</blockquote>",
            '<blockquote class="expandable">long</blockquote>',
        ),
        # nesting, and outer entities opened first
        ("<b>a <i>b <u>c</u></i> d</b>", "<strong>a <em>b <u>c</u></em> d</strong>"),
        # text that looks like markup is text
        ("&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        (
            "<b>&lt;img src=x onerror=alert(1)&gt;</b>",
            "<strong>&lt;img src=x onerror=alert(1)&gt;</strong>",
        ),
        # a link that is not a web or Telegram address is shown as text only
        ('<a href="javascript:alert(1)">click</a>', '<span class="bad-link">click</span>'),
        (
            '<a href="https://x.org/&quot;onmouseover=&quot;alert(1)">q</a>',
            '<a href="https://x.org/&quot;onmouseover=&quot;alert(1)" target="_blank" '
            'rel="noopener noreferrer">q</a>',
        ),
        # offsets are UTF-16: an emoji before the entity counts twice
        ("🛒 <b>Catalogue</b> 价格", "🛒 <strong>Catalogue</strong> 价格"),
    ],
)
def test_telegram_formatting_becomes_safe_html(telegram_html: str, page_html: str) -> None:
    formatted = parse_html(telegram_html)
    assert message_html(formatted.text, formatted.entities) == page_html


@pytest.mark.parametrize(
    ("text", "entity", "page_html"),
    [
        (
            "/start now",
            {"type": "bot_command", "offset": 0, "length": 6},
            '<a href="#" class="command" data-command="/start">/start</a> now',
        ),
        (
            "see https://kameng.example",
            {"type": "url", "offset": 4, "length": 22},
            'see <a href="https://kameng.example" target="_blank" rel="noopener noreferrer">'
            "https://kameng.example</a>",
        ),
        (
            "ask a@b.cn",
            {"type": "email", "offset": 4, "length": 6},
            'ask <a href="mailto:a@b.cn" target="_blank" rel="noopener noreferrer">a@b.cn</a>',
        ),
        (
            "hi @ann",
            {"type": "mention", "offset": 3, "length": 4},
            'hi <span class="mention">@ann</span>',
        ),
        (
            "#tag",
            {"type": "hashtag", "offset": 0, "length": 4},
            '<span class="hashtag">#tag</span>',
        ),
        # an entity kind the page does not draw leaves the text as it is
        (
            "plain",
            {"type": "custom_emoji", "offset": 0, "length": 5, "custom_emoji_id": "1"},
            "plain",
        ),
        # the user's own text with markup in it
        (
            "<script>x</script>",
            {"type": "bold", "offset": 0, "length": 8},
            "<strong>&lt;script&gt;</strong>x&lt;/script&gt;",
        ),
    ],
)
def test_entities_given_as_objects(text: str, entity: dict[str, object], page_html: str) -> None:
    formatted = from_entities(text, [entity])
    assert message_html(formatted.text, formatted.entities) == page_html


def test_a_text_without_entities_is_only_escaped() -> None:
    assert message_html('<a href="x">&</a>', ()) == '&lt;a href="x"&gt;&amp;&lt;/a&gt;'


@pytest.mark.parametrize(
    ("telegram_html", "page_html"),
    [
        (
            "More codes: /upload NETFLIX-1M",
            'More codes: <a href="#" class="command" data-command="/upload">/upload</a> NETFLIX-1M',
        ),
        # a command the bot wrote as code stays code; one after it is found
        (
            "<code>/buy SKU N</code>, e.g. /buy",
            '<code data-testid="code">/buy SKU N</code>, e.g. '
            '<a href="#" class="command" data-command="/buy">/buy</a>',
        ),
        (
            "see https://example.com/a?b=1. ok",
            'see <a href="https://example.com/a?b=1" target="_blank" '
            'rel="noopener noreferrer">https://example.com/a?b=1</a>. ok',
        ),
        ("1/2 and a/b", "1/2 and a/b"),
        ("<b>/help</b>", "<strong>/help</strong>"),
    ],
)
def test_commands_and_addresses_in_plain_text_are_found_as_a_telegram_app_does(
    telegram_html: str, page_html: str
) -> None:
    formatted = parse_html(telegram_html)
    assert message_html(formatted.text, formatted.entities) == page_html
