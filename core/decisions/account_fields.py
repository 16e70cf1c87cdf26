"""An upstream's direct top-up fields as the fields a local direct SKU asks for. Pure.

    describe_field(name, label_en, label_zh, pattern, required, hint_en, hint_zh) -> Described
    search_regex_pattern(regex)                     -> str | None
    upstream_fields(stored_json)                    -> tuple[AccountField, ...]

An upstream describes each field as much as its protocol lets it (a Kameng: labels in both
languages and a pattern; Dujiao-Next: a localized label and a search regex). What it leaves
out comes from ``KNOWN_FIELDS`` (the field names every game top-up uses), else the field's own
name with a permissive pattern, so the reseller is never asked for less than the upstream
said. A hint (what a value looks like in words) is the upstream's own (Dujiao-Next's
``placeholder``), else the known field's — only while its pattern is the one checked, so a
hint never describes a rule the value is not held to. A pattern we cannot run safely is
replaced by the permissive one: the upstream checks the value again when the order is
placed there.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from core.decisions.fulfilment import LABEL_MAX, AccountField

#: any value (of at most ``MAX_VALUE`` characters), when nothing better is known
PERMISSIVE = r"\S.*"
PATTERN_MAX = 200  # characters of an upstream's pattern we run

_DIGITS = r"[0-9]{1,20}"

#: field name → (English label, Chinese label, pattern, English hint, Chinese hint); several
#: names for one meaning. A hint says the pattern in words (it is shown only with it)
KNOWN_FIELDS: dict[str, tuple[str, str, str, str, str]] = {
    **dict.fromkeys(
        ("user_id", "uid", "userid", "game_id", "player_id", "role_id"),
        ("Game user ID", "游戏用户ID", _DIGITS, "digits only", "仅数字"),
    ),
    **dict.fromkeys(
        ("zone_id", "zone", "server_id", "server", "zoneid", "serverid"),
        ("Server (zone) ID", "区服ID", _DIGITS, "digits only", "仅数字"),
    ),
    **dict.fromkeys(
        ("phone", "mobile"),
        (
            "Phone number",
            "手机号",
            r"1[3-9][0-9]{9}",
            "11 digits starting with 1",
            "以1开头的11位数字",
        ),
    ),
    "qq": (
        "QQ number",
        "QQ号",
        r"[1-9][0-9]{4,11}",
        "5 to 12 digits, not starting with 0",
        "5-12位数字，不以0开头",
    ),
    "email": (
        "Email",
        "邮箱",
        r"[^@\s]+@[^@\s]+\.[^@\s]+",
        "like name@example.com",
        "如 name@example.com",
    ),
    "account": ("Account", "账号", PERMISSIVE, "", ""),
}

HINT_MAX = 64  # characters of an upstream's hint we show

# a quantified group holding a quantifier ``(a+)+``, ``(\d*){2,}``: backtracks exponentially
_NESTED_QUANTIFIER = re.compile(r"\([^()]*[*+}][^()]*\)[*+{]")


def usable_pattern(pattern: str) -> bool:
    """Compiles in Python and cannot backtrack catastrophically (no nested quantifier)."""
    if not pattern or len(pattern) > PATTERN_MAX or _NESTED_QUANTIFIER.search(pattern):
        return False
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


@dataclass(frozen=True)
class Described:
    """The field; ``replaced``: the upstream's pattern we could not use (to log), if any."""

    field: AccountField
    replaced: str | None = None


def _label(text: str | None, name: str) -> str | None:
    """A label worth showing: given, not merely the field's name again, clipped to fit."""
    text = (text or "").strip()
    return text[:LABEL_MAX] if text and text != name else None


# a placeholder's opening words that ask rather than describe ("请输入5-12位数字")
_PROMPT = re.compile(r"^(?:请输入|请填写|please\s+enter|enter)\s*(?:your\s+|您的)?", re.I)


def _hint(text: str | None, label: str) -> str:
    """An upstream's placeholder as a hint: its prompt words dropped; none if only the
    prompt is left, or it merely names the field again ("请输入手机号": the label)."""
    hint = _PROMPT.sub("", " ".join((text or "").split()))
    if not hint or label.lower() in hint.lower():
        return ""
    return hint[:HINT_MAX]


def describe_field(
    name: str,
    label_en: str | None,
    label_zh: str | None,
    pattern: str | None,
    required: bool = True,
    hint_en: str | None = None,
    hint_zh: str | None = None,
) -> Described:
    """The upstream's own labels, pattern and hints where it gives them (a label equal to
    the name is no label: a Kameng reselling an upstream's product repeats the name), else
    the known field's, else the name and ``PERMISSIVE``. Optional only when the upstream
    says so (``required``)."""
    known = KNOWN_FIELDS.get(name.lower())
    en, zh = _label(label_en, name), _label(label_zh, name)
    replaced = None
    if pattern and not usable_pattern(pattern):
        replaced, pattern = pattern, PERMISSIVE
    # a label missing in one language: the known field's, else the other language's
    label_en = en or (known[0] if known else zh or name)
    label_zh = zh or (known[1] if known else en or name)
    fallback = known[2] if known else PERMISSIVE
    checked = pattern or fallback
    # a hint missing in one language: the known one while its pattern is checked, else
    # the other language's (an upstream's Chinese placeholder beats none)
    given_en, given_zh = _hint(hint_en, label_en), _hint(hint_zh, label_zh)
    ours = known if known and known[2] == checked else None
    hint_en = given_en or (ours[3] if ours and not given_zh else given_zh)
    hint_zh = given_zh or (ours[4] if ours and not given_en else given_en)
    field = AccountField(name, checked, label_en, label_zh, required, hint_en, hint_zh)
    return Described(field, replaced)


_UNUSABLE = "("  # never compiles: the caller replaces it, and logs that once
_LITERAL = re.compile(r"/(?P<body>.+)/(?P<flags>[a-z]*)", re.S)


def search_regex_pattern(regex: str | None) -> str | None:
    """Dujiao-Next's ``regex`` (Go, matched anywhere in the value; maybe a JavaScript
    ``/…/flags`` literal) as a pattern the whole value must match: ``^X$`` is ``X``, anything
    else ``.*?(?:X).*``. None: no regex, or flags we do not know (then unusable)."""
    regex = (regex or "").strip()
    if not regex:
        return None
    flags = ""
    literal = _LITERAL.fullmatch(regex)
    if literal:
        regex, given = literal["body"], literal["flags"]
        if set(given) - set("imsguy"):
            return _UNUSABLE
        flags = "".join(f"(?{f})" for f in "ims" if f in given)
    if regex.startswith("^") and regex.endswith("$") and not regex.endswith("\\$"):
        body = regex[1:-1]
        if not _alternates_at_top(body):  # ``^a|b$`` is ``^a`` or ``b$``: not anchored whole
            return flags + body
    return f"{flags}.*?(?:{regex}).*"


def _alternates_at_top(regex: str) -> bool:
    """A ``|`` outside any group, class or escape."""
    depth, in_class, escaped = 0, False, False
    for char in regex:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char in "()":
            depth += 1 if char == "(" else -1
        elif char == "|" and depth == 0:
            return True
    return False


def upstream_fields(stored: str | None) -> tuple[AccountField, ...]:
    """An upstream SKU's stored fields: descriptions as synced, or (rows synced before
    upstreams' labels were kept) a list of names, described as ``describe_field`` would;
    one synced before optional fields were kept is required."""
    out = []
    for item in json.loads(stored or "[]"):
        if isinstance(item, dict):
            name, pattern, label_en, label_zh = (
                str(item[key]) for key in ("name", "pattern", "label_en", "label_zh")
            )
            required = item.get("required") is not False
            hint_en, hint_zh = (str(item.get(key) or "") for key in ("hint_en", "hint_zh"))
            out.append(AccountField(name, pattern, label_en, label_zh, required, hint_en, hint_zh))
        else:
            out.append(describe_field(str(item), None, None, None).field)
    return tuple(out)
