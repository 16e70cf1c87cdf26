"""The one reader of codes: bytes or pasted text → one ``SourceLine`` per line.

The CLI (``kameng codes import``), the bot's ``/upload`` (paste or file) and any API path
read codes here, so a file means the same thing whichever way it arrives.

- Encoding: a BOM says UTF-8, UTF-16 LE or UTF-16 BE; otherwise strict UTF-8, then strict
  GB18030 (what Chinese spreadsheets export). When neither decodes every line, the one that
  decodes more lines is chosen and a line it cannot decode is invalid (``undecodable``):
  replacement characters are never stored, so mojibake is never sold.
- Lines are split on ``\\n``, ``\\r\\n`` or ``\\r`` only, numbered as the supplier's editor
  shows them.
- CSV: the first non-blank line decides the delimiter (a tab, else a comma; neither: one
  column per line). Quoted fields are understood; a quoted field cannot span lines.
- A header row (first non-blank line, known names in Chinese or English) is skipped and maps
  columns to fields; columns under other names are ignored. Without a header one column is
  the ``number``, two are ``number`` and ``password``.
- A field with control, format or private-use characters, U+FFFD or an unassigned code point
  makes its line invalid with a reason; the line is never stored.
"""

from __future__ import annotations

import codecs
import csv
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from core.delivery.codes import FIELDS, CardCode

UPLOAD_EXTENSIONS = (".txt", ".csv")
MAX_CODE_LENGTH = 1_000  # of the stored form

# Header names, compared lower-cased without spaces, dashes, underscores or dots.
HEADER_NAMES: dict[str, str] = {
    **dict.fromkeys(
        (
            "卡号",
            "卡号码",
            "号码",
            "账号",
            "帐号",
            "序列号",
            "number",
            "no",
            "card",
            "cardno",
            "cardnumber",
            "code",
            "serial",
            "serialnumber",
            "sn",
        ),
        "number",
    ),
    **dict.fromkeys(
        ("卡密", "密码", "卡密码", "激活码", "password", "pass", "pwd", "pin", "secret"),
        "password",
    ),
    **dict.fromkeys(("链接", "网址", "地址", "兑换链接", "link", "url"), "link"),
    **dict.fromkeys(
        (
            "有效期",
            "过期时间",
            "到期时间",
            "失效时间",
            "有效期至",
            "到期日",
            "expires",
            "expiry",
            "expiration",
            "expirydate",
            "expiresat",
            "validuntil",
        ),
        "expires",
    ),
}
_NAME_NOISE = str.maketrans("", "", " _-.\u3000")
_NO_HEADER = {1: ("number",), 2: ("number", "password")}
# Categories a code never contains: controls, format (zero-width, BOM), line/paragraph
# separators, private use, surrogates, unassigned.
_CONTROL = {"Cc", "Cf", "Zl", "Zp"}
_UNDECODED = {"Co", "Cs", "Cn"}


@dataclass(frozen=True, slots=True)
class SourceLine:
    """One line as the supplier sees it: a code, or why it is not one."""

    line_no: int
    code: CardCode | None = None
    reason: str | None = None  # "blank" | "header" | an invalid reason (too_long, …)
    text: str = ""  # the line as read, for the supplier's list of rejected lines

    def __repr__(self) -> str:  # the text is a code: keep it out of logs
        return f"SourceLine(line_no={self.line_no}, reason={self.reason!r})"


def accepts(filename: str) -> bool:
    return filename.lower().endswith(UPLOAD_EXTENSIONS)


def read_bytes(data: bytes) -> Iterator[SourceLine]:
    """A file's lines, whatever its encoding."""
    parser = LineParser()
    for number, text in enumerate(_decoded_lines(data), start=1):
        yield parser.undecodable(number) if text is None else parser.parse(number, text)


def read_text(text: str) -> Iterator[SourceLine]:
    """Pasted text's lines."""
    return read_lines(_split(text))


def read_lines(lines: Iterable[str]) -> Iterator[SourceLine]:
    """Lines already decoded (one string a line)."""
    parser = LineParser()
    for number, text in enumerate(lines, start=1):
        yield parser.parse(number, text)


# decoding --------------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _split(text: str) -> list[str]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last line starts no new line
    return lines


def _decoded_lines(data: bytes) -> list[str | None]:
    """Each line decoded, or None where the chosen encoding cannot decode it."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            body = data[len(bom) :]
            if encoding.startswith("utf-16"):
                return _utf16_lines(body, encoding)
            return _lines_in(body, encoding)
    bomless = _bomless_utf16(data)
    if bomless is not None:
        return _utf16_lines(data, bomless)
    for encoding in ("utf-8", "gb18030"):
        try:
            return list(_split(data.decode(encoding)))
        except UnicodeDecodeError:
            continue
    by_utf8, by_gb = _lines_in(data, "utf-8"), _lines_in(data, "gb18030")
    if sum(t is None for t in by_gb) < sum(t is None for t in by_utf8):
        return by_gb
    return by_utf8


def _bomless_utf16(data: bytes) -> str | None:
    """UTF-16 without a BOM: mostly-Latin text has a NUL in every other byte."""
    sample = data[:4096]
    if len(sample) < 2 or b"\x00" not in sample:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > len(odd) * 0.4 and even.count(0) < len(even) * 0.1:
        return "utf-16-le"
    if even.count(0) > len(even) * 0.4 and odd.count(0) < len(odd) * 0.1:
        return "utf-16-be"
    return None


def _lines_in(data: bytes, encoding: str) -> list[str | None]:
    """Byte lines decoded one by one (both encodings keep ``\\n`` a single byte)."""
    raw = data.split(b"\n")
    if raw and raw[-1] == b"":
        raw.pop()
    decoded: list[str | None] = []
    for line in raw:
        try:
            text = line.decode(encoding)
        except UnicodeDecodeError:
            decoded.append(None)
            continue
        decoded.extend(_split(text) or [""])  # a lone "\r" still ends a line
    return decoded


def _utf16_lines(body: bytes, encoding: str) -> list[str | None]:
    try:
        return list(_split(body.decode(encoding)))
    except UnicodeDecodeError:
        # A broken pair or an odd byte: those lines hold U+FFFD and are refused below.
        return list(_split(body.decode(encoding, errors="replace")))


# rows ------------------------------------------------------------------------------------


def header_field(cell: str) -> str | None:
    return HEADER_NAMES.get(cell.strip().lower().translate(_NAME_NOISE))


class LineParser:
    """Stateful: the first non-blank line decides the delimiter and whether it is a header."""

    def __init__(self) -> None:
        self._started = False
        self._delimiter: str | None = None
        self._columns: tuple[str | None, ...] | None = None  # from the header, if any

    def undecodable(self, number: int) -> SourceLine:
        return SourceLine(number, reason="undecodable")

    def parse(self, number: int, text: str) -> SourceLine:
        if not text.strip():
            return SourceLine(number, reason="blank", text=text)
        first = not self._started
        if first:
            self._started = True
            self._delimiter = "\t" if "\t" in text else "," if "," in text else None
        cells = self._cells(text)
        if cells is None:
            return SourceLine(number, reason="malformed_csv", text=text)
        named = [header_field(cell) for cell in cells]
        if _is_header(named, cells):
            if first:
                self._columns = _header_columns(named)
                return SourceLine(number, reason="header", text=text)
            return SourceLine(number, reason="header_again", text=text)
        return self._code(number, cells, text)

    def _cells(self, text: str) -> list[str] | None:
        delimiter = self._delimiter
        if '"' not in text:
            cells = text.split(delimiter) if delimiter else [text]
        else:
            try:
                rows = list(csv.reader([text], delimiter=delimiter or "\x1f", strict=True))
            except csv.Error:
                return None
            cells = rows[0] if rows else [""]
        while len(cells) > 1 and not cells[-1].strip():
            cells.pop()  # "a,b," from a spreadsheet: the empty last column is nothing
        return cells

    def _code(self, number: int, cells: list[str], text: str) -> SourceLine:
        columns = self._columns or _NO_HEADER.get(len(cells))
        if columns is None or len(cells) > len(columns):
            return SourceLine(number, reason="too_many_columns", text=text)
        values: dict[str, str] = {}
        for name, cell in zip(columns, cells, strict=False):
            if name is not None and cell.strip():
                values[name] = cell.strip()
        if not values:
            return SourceLine(number, reason="blank", text=text)
        if "number" in columns and "number" not in values:
            return SourceLine(number, reason="missing_number", text=text)
        for value in values.values():
            reason = invalid_reason(value)
            if reason is not None:
                return SourceLine(number, reason=reason, text=text)
        code = CardCode.of(values)
        if len(code.stored()) > MAX_CODE_LENGTH:
            return SourceLine(number, reason="too_long", text=text)
        return SourceLine(number, code=code, text=text)


def _is_header(named: list[str | None], cells: list[str]) -> bool:
    """Every non-empty cell a known name, or at least two known names (``卡号,卡密,面值``:
    the unknown column is ignored); a data row rarely looks like either."""
    known = sum(name is not None for name in named)
    filled = sum(bool(cell.strip()) for cell in cells)
    return known > 0 and (known == filled or known >= 2)


def _header_columns(named: list[str | None]) -> tuple[str | None, ...]:
    columns: list[str | None] = []
    for name in named:
        columns.append(None if name in columns else name)  # a repeated name: first wins
    if "number" not in columns and "password" in columns:
        # a lone 卡密 / password column is the code itself
        columns[columns.index("password")] = "number"
    return tuple(columns)


def invalid_reason(value: str) -> str | None:
    if len(value) > MAX_CODE_LENGTH:
        return "too_long"
    if value.isascii() and value.isprintable():
        return None  # fast path: printable ASCII
    categories = {unicodedata.category(ch) for ch in value}
    if "\ufffd" in value or categories & _UNDECODED:
        return "undecodable"
    if categories & _CONTROL:
        return "control_chars"
    return None


assert set(HEADER_NAMES.values()) <= set(FIELDS)
