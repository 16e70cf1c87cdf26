"""Telegram's HTML formatting: parse ``parse_mode=HTML`` text into plain text + entities.

The parser follows Telegram's rules (and its error texts): only the supported tags are
allowed, tags must be balanced, ``&lt; &gt; &amp; &quot;`` and numeric character
references are decoded, any other ``&`` is kept literally. Entity offsets and lengths
are in UTF-16 code units, as in the Bot API. Leading and trailing whitespace of the
resulting text is removed, as Telegram does.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.fake_telegram.limits import ApiError, cant_parse_entities

#: tag name -> entity type
_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_REFERENCES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


@dataclass(frozen=True)
class Entity:
    """A MessageEntity; ``offset``/``length`` in UTF-16 code units, ``text`` is its text."""

    type: str
    offset: int
    length: int
    text: str = ""
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None

    def to_api(self) -> dict[str, Any]:
        result: dict[str, Any] = {"type": self.type, "offset": self.offset, "length": self.length}
        if self.url is not None:
            result["url"] = self.url
        if self.language is not None:
            result["language"] = self.language
        if self.custom_emoji_id is not None:
            result["custom_emoji_id"] = self.custom_emoji_id
        return result


@dataclass(frozen=True)
class FormattedText:
    text: str
    entities: tuple[Entity, ...] = ()


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def utf16_slice(text: str, offset: int, length: int) -> str:
    raw = text.encode("utf-16-le")
    return raw[offset * 2 : (offset + length) * 2].decode("utf-16-le", errors="replace")


@dataclass
class _Open:
    tag: str
    utf16_start: int
    byte_offset: int
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None
    expandable: bool = False


class _HtmlParser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 0
        self.out: list[str] = []
        self.utf16_pos = 0
        self.stack: list[_Open] = []
        self.entities: list[tuple[int, int, Entity]] = []  # (start, order, entity)

    def error(self, detail: str) -> ApiError:
        return ApiError(400, cant_parse_entities(detail))

    def byte_offset(self, index: int) -> int:
        return len(self.source[:index].encode("utf-8"))

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.utf16_pos += utf16_len(text)

    def parse(self) -> FormattedText:
        src = self.source
        while self.pos < len(src):
            char = src[self.pos]
            if char == "<":
                if src.startswith("</", self.pos):
                    self.end_tag()
                else:
                    self.start_tag()
            elif char == "&":
                self.reference()
            else:
                next_special = min(
                    (i for i in (src.find("<", self.pos), src.find("&", self.pos)) if i != -1),
                    default=len(src),
                )
                self.emit(src[self.pos : next_special])
                self.pos = next_special
        if self.stack:
            raise self.error(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].tag}"'
            )
        text = "".join(self.out)
        ordered = [entity for _, _, entity in sorted(self.entities, key=lambda e: (e[0], e[1]))]
        return _strip(text, ordered)

    def reference(self) -> None:
        src = self.source
        end = src.find(";", self.pos + 1, self.pos + 12)
        if end != -1:
            name = src[self.pos + 1 : end]
            decoded: str | None = _NAMED_REFERENCES.get(name)
            if decoded is None and name.startswith("#"):
                try:
                    code = int(name[2:], 16) if name[1:2] in ("x", "X") else int(name[1:])
                    decoded = chr(code) if 0 < code <= 0x10FFFF else None
                except ValueError:
                    decoded = None
            if decoded is not None:
                self.emit(decoded)
                self.pos = end + 1
                return
        self.emit("&")
        self.pos += 1

    def read_name(self, start: int) -> tuple[str, int]:
        end = start
        while end < len(self.source) and self.source[end] in _TAG_NAME_CHARS:
            end += 1
        return self.source[start:end].lower(), end

    def start_tag(self) -> None:
        src = self.source
        begin = self.pos
        offset = self.byte_offset(begin)
        name, index = self.read_name(begin + 1)
        if name not in _TAGS:
            raise self.error(f'Unsupported start tag "{name}" at byte offset {offset}')
        attributes: dict[str, str] = {}
        while True:
            while index < len(src) and src[index] in " \t\r\n":
                index += 1
            if index >= len(src):
                raise self.error(f"Unclosed start tag at byte offset {offset}")
            if src[index] == ">":
                index += 1
                break
            attr_name, after = self.read_name(index)
            if not attr_name:
                raise self.error(
                    f'Empty attribute name in the tag "{name}" at byte offset {offset}'
                )
            index = after
            if index < len(src) and src[index] == "=":
                index += 1
                if index < len(src) and src[index] in "\"'":
                    quote = src[index]
                    close = src.find(quote, index + 1)
                    if close == -1:
                        raise self.error(f"Unclosed start tag at byte offset {offset}")
                    raw_value = src[index + 1 : close]
                    index = close + 1
                else:
                    end = index
                    while end < len(src) and src[end] not in " \t\r\n>":
                        end += 1
                    raw_value = src[index:end]
                    index = end
                attributes[attr_name] = html.unescape(raw_value)
            else:
                attributes[attr_name] = ""
        self.pos = index
        opened = _Open(tag=name, utf16_start=self.utf16_pos, byte_offset=offset)
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise self.error(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
        if name == "a":
            opened.url = attributes.get("href") or None
        elif name == "code":
            css = attributes.get("class", "")
            if css.startswith("language-"):
                opened.language = css[len("language-") :]
        elif name == "tg-emoji":
            emoji_id = attributes.get("emoji-id")
            if not emoji_id:
                raise self.error(
                    f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {offset}'
                )
            opened.custom_emoji_id = emoji_id
        elif name == "blockquote":
            opened.expandable = "expandable" in attributes
        self.stack.append(opened)

    def end_tag(self) -> None:
        src = self.source
        offset = self.byte_offset(self.pos)
        name, index = self.read_name(self.pos + 2)
        while index < len(src) and src[index] in " \t\r\n":
            index += 1
        if index >= len(src) or src[index] != ">":
            raise self.error(f"Unclosed end tag at byte offset {offset}")
        self.pos = index + 1
        if not self.stack:
            raise self.error(f"Unexpected end tag at byte offset {offset}")
        top = self.stack[-1]
        if top.tag != name:
            raise self.error(
                f'Unmatched end tag at byte offset {offset}, expected "</{top.tag}>", '
                f'found "</{name}>"'
            )
        self.stack.pop()
        self.close(top)

    def close(self, opened: _Open) -> None:
        length = self.utf16_pos - opened.utf16_start
        kind = _TAGS[opened.tag]
        if kind == "code" and self.stack and self.stack[-1].tag == "pre":
            parent = self.stack[-1]
            if parent.utf16_start == opened.utf16_start:
                # <pre><code class="language-x">...</code></pre> is one pre entity
                parent.language = opened.language
                return
        if kind == "blockquote" and opened.expandable:
            kind = "expandable_blockquote"
        if length <= 0 or (kind == "text_link" and opened.url is None):
            return
        entity = Entity(
            type=kind,
            offset=opened.utf16_start,
            length=length,
            url=opened.url,
            language=opened.language if kind == "pre" else None,
            custom_emoji_id=opened.custom_emoji_id,
        )
        # outer entities first when they start at the same place
        self.entities.append((opened.utf16_start, -length, entity))


def _strip(text: str, entities: list[Entity]) -> FormattedText:
    """Drop leading/trailing whitespace, moving and clipping entities like Telegram."""
    stripped = text.strip()
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    result: list[Entity] = []
    for entity in entities:
        start = max(entity.offset - lead, 0)
        end = min(entity.offset + entity.length - lead, total)
        if end > start:
            result.append(_with_text(stripped, entity, start, end - start))
    return FormattedText(stripped, tuple(result))


def _with_text(text: str, entity: Entity, offset: int, length: int) -> Entity:
    return Entity(
        type=entity.type,
        offset=offset,
        length=length,
        text=utf16_slice(text, offset, length),
        url=entity.url,
        language=entity.language,
        custom_emoji_id=entity.custom_emoji_id,
    )


def parse_html(source: str) -> FormattedText:
    """Parse Telegram-HTML; raise :class:`ApiError` with Telegram's text when invalid."""
    return _HtmlParser(source).parse()


def from_entities(text: str, entities: list[dict[str, Any]] | None) -> FormattedText:
    """Plain text with explicitly given (already validated) MessageEntity dicts."""
    parsed = [
        Entity(
            type=str(raw["type"]),
            offset=int(raw["offset"]),
            length=int(raw["length"]),
            url=raw.get("url"),
            language=raw.get("language"),
            custom_emoji_id=raw.get("custom_emoji_id"),
        )
        for raw in entities or []
    ]
    return _strip(text, parsed)


def format_text(text: str, parse_mode: str | None, entities: list[Any] | None) -> FormattedText:
    """Apply ``parse_mode`` or ``entities`` the way ``sendMessage`` does."""
    if entities:
        return from_entities(text, entities)
    if not parse_mode:
        return _strip(text, [])
    mode = parse_mode.lower()
    if mode == "html":
        return parse_html(text)
    if mode in ("markdown", "markdownv2"):
        raise ApiError.fake_only(
            f"fake server: parse_mode {parse_mode} is not supported by the fake Telegram "
            "server; the bot is expected to use HTML"
        )
    raise ApiError.bad_request("unsupported parse_mode")


_RENDER_TAGS = {
    "bold": ("<b>", "</b>"),
    "italic": ("<i>", "</i>"),
    "underline": ("<u>", "</u>"),
    "strikethrough": ("<s>", "</s>"),
    "spoiler": ("<tg-spoiler>", "</tg-spoiler>"),
    "code": ("<code>", "</code>"),
    "blockquote": ("<blockquote>", "</blockquote>"),
    "expandable_blockquote": ("<blockquote expandable>", "</blockquote>"),
}


def _open_tag(entity: Entity) -> tuple[str, str]:
    if entity.type == "text_link":
        return f'<a href="{html.escape(entity.url or "")}">', "</a>"
    if entity.type == "pre":
        if entity.language:
            return f'<pre><code class="language-{html.escape(entity.language)}">', "</code></pre>"
        return "<pre>", "</pre>"
    if entity.type == "custom_emoji":
        return f'<tg-emoji emoji-id="{html.escape(entity.custom_emoji_id or "")}">', "</tg-emoji>"
    return _RENDER_TAGS.get(entity.type, ("", ""))


#: an entity's opening and closing markup
Tags = Callable[[Entity], tuple[str, str]]


def to_html(text: str, entities: tuple[Entity, ...], tags: Tags = _open_tag) -> str:
    """Render plain text + entities back to Telegram-HTML (or, with other ``tags``, to
    other markup: the sandbox's chat page renders for a browser), the text escaped."""
    opens: dict[int, list[Entity]] = {}
    for entity in sorted(entities, key=lambda e: (e.offset, -e.length)):
        opens.setdefault(entity.offset, []).append(entity)
    parts: list[str] = []
    stack: list[tuple[int, str]] = []  # (end offset, closing tag)
    position = 0
    for char in [*text, ""]:
        while stack and stack[-1][0] <= position:
            parts.append(stack.pop()[1])
        for entity in opens.get(position, []):
            opening, closing = tags(entity)
            parts.append(opening)
            stack.append((entity.offset + entity.length, closing))
        if not char:
            break
        parts.append(html.escape(char, quote=False))
        position += utf16_len(char)
    while stack:
        parts.append(stack.pop()[1])
    return "".join(parts)
