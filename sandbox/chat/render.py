"""A Telegram message's text and entities as safe HTML for the chat page.

Every character of the text is escaped; the only markup is the tags below, and a link
keeps only an ``http``/``https``/``tg``/``mailto`` address (anything else, say
``javascript:``, is shown as plain text). Nesting and UTF-16 offsets are handled by
:func:`sandbox.fake_telegram.formatting.to_html`, the same walk that renders Telegram-HTML.
"""

from __future__ import annotations

import html
import re

from sandbox.fake_telegram.formatting import Entity, Tags, to_html, utf16_len, utf16_slice

SAFE_SCHEMES = ("http://", "https://", "tg://", "mailto:")
#: what Telegram's apps find in plain text by themselves: commands and web addresses
_DETECTED = re.compile(
    r"(?P<bot_command>(?<!\S)/[A-Za-z0-9_]{1,32}(?:@\w+)?(?![\w/]))"
    r"|(?P<url>\bhttps?://[^\s<>\"]+[^\s<>\".,;:!?)\]'])"
)

_SIMPLE = {
    "bold": ("<strong>", "</strong>"),
    "italic": ("<em>", "</em>"),
    "underline": ("<u>", "</u>"),
    "strikethrough": ("<s>", "</s>"),
    "code": ('<code data-testid="code">', "</code>"),
    "blockquote": ("<blockquote>", "</blockquote>"),
    "expandable_blockquote": ('<blockquote class="expandable">', "</blockquote>"),
    "spoiler": ('<span class="spoiler" data-testid="spoiler" title="spoiler">', "</span>"),
    "mention": ('<span class="mention">', "</span>"),
    "hashtag": ('<span class="hashtag">', "</span>"),
    "cashtag": ('<span class="hashtag">', "</span>"),
    "phone_number": ('<span class="phone">', "</span>"),
}


def _link(url: str) -> tuple[str, str]:
    if not url.lower().startswith(SAFE_SCHEMES):
        return '<span class="bad-link">', "</span>"
    href = html.escape(url, quote=True)
    return f'<a href="{href}" target="_blank" rel="noopener noreferrer">', "</a>"


def _tags_for(text: str) -> Tags:
    def tags(entity: Entity) -> tuple[str, str]:
        if entity.type == "text_link":
            return _link(entity.url or "")
        if entity.type == "url":
            return _link(utf16_slice(text, entity.offset, entity.length))
        if entity.type == "email":
            return _link("mailto:" + utf16_slice(text, entity.offset, entity.length))
        if entity.type == "bot_command":
            command = html.escape(utf16_slice(text, entity.offset, entity.length), quote=True)
            return f'<a href="#" class="command" data-command="{command}">', "</a>"
        if entity.type == "pre":
            language = html.escape(entity.language or "", quote=True)
            return f'<pre data-testid="pre" data-language="{language}"><code>', "</code></pre>"
        return _SIMPLE.get(entity.type, ("", ""))

    return tags


def detected(text: str, entities: tuple[Entity, ...]) -> tuple[Entity, ...]:
    """``entities`` plus the commands and web addresses in the rest of the text, as a
    Telegram app shows them clickable (never inside an entity the sender gave: a command
    in ``<code>`` stays code)."""
    taken = [(e.offset, e.offset + e.length) for e in entities]
    found: list[Entity] = []
    for match in _DETECTED.finditer(text):
        start = utf16_len(text[: match.start()])
        end = start + utf16_len(match.group())
        if all(end <= low or start >= high for low, high in taken):
            kind = match.lastgroup or "url"
            found.append(Entity(kind, start, end - start, text=match.group()))
    return (*entities, *found)


def message_html(text: str, entities: tuple[Entity, ...]) -> str:
    """``text`` with its ``entities`` (and the commands and addresses a Telegram app would
    find) as HTML a browser may show as it is."""
    return to_html(text, detected(text, entities), _tags_for(text))
