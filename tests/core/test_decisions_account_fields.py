"""An upstream's direct top-up fields, by worked examples: what the reseller is asked for
(labels in both languages) and what a value must look like, from what the upstream says,
the well-known fields, or the name alone; a Dujiao-Next regex as a whole-value pattern;
rows stored before descriptions were kept still read."""

from __future__ import annotations

import json
import re

import pytest

from core.decisions.account_fields import (
    PERMISSIVE,
    describe_field,
    search_regex_pattern,
    upstream_fields,
    usable_pattern,
)
from core.decisions.fulfilment import AccountField, check_account, fields_to_json
from core.decisions.refusal import Refusal

DIGITS = "[0-9]{1,20}"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        # nothing said: the well-known field's labels and pattern
        (("user_id", None, None, None), ("Game user ID", "游戏用户ID", DIGITS)),
        (("uid", None, None, None), ("Game user ID", "游戏用户ID", DIGITS)),
        (("zone_id", None, None, None), ("Server (zone) ID", "区服ID", DIGITS)),
        (("server_id", None, None, None), ("Server (zone) ID", "区服ID", DIGITS)),
        (("phone", None, None, None), ("Phone number", "手机号", "1[3-9][0-9]{9}")),
        (("mobile", None, None, None), ("Phone number", "手机号", "1[3-9][0-9]{9}")),
        (("qq", None, None, None), ("QQ number", "QQ号", "[1-9][0-9]{4,11}")),
        (("email", None, None, None), ("Email", "邮箱", r"[^@\s]+@[^@\s]+\.[^@\s]+")),
        (("account", None, None, None), ("Account", "账号", PERMISSIVE)),
        (("User_ID", None, None, None), ("Game user ID", "游戏用户ID", DIGITS)),
        # unknown and undescribed: its name, any value
        (("hero_name", None, None, None), ("hero_name", "hero_name", PERMISSIVE)),
        # a label that only repeats the name is no label (a Kameng reselling an upstream's)
        (("user_id", "user_id", "user_id", ".+"), ("Game user ID", "游戏用户ID", ".+")),
        # the upstream's own words win
        (("uid", "Player ID", "玩家ID", "[0-9]{6}"), ("Player ID", "玩家ID", "[0-9]{6}")),
        # one language only: the known field's other label, else the one given
        (("uid", None, "玩家ID", None), ("Game user ID", "玩家ID", DIGITS)),
        (("hero", None, "英雄名", None), ("英雄名", "英雄名", PERMISSIVE)),
        (("hero", "Hero", None, None), ("Hero", "Hero", PERMISSIVE)),
        # too long a label is clipped to what a local field may hold
        (("x", "A" * 40, "字" * 40, None), ("A" * 32, "字" * 32, PERMISSIVE)),
    ],
)
def test_what_the_reseller_is_asked(
    given: tuple[str, str | None, str | None, str | None], expected: tuple[str, str, str]
) -> None:
    described = describe_field(*given)
    field = described.field
    assert (field.label_en, field.label_zh, field.pattern) == expected
    assert described.replaced is None


@pytest.mark.parametrize(
    "pattern",
    [
        "([0-9]",  # does not compile
        r"(\d+)+$",  # nested quantifier: backtracks for ever on a long non-match
        r"(a*)*b",
        r"(\w{1,5}){2,}",
        r"\p{Han}+",  # Go/PCRE only
        "x" * 201,  # longer than we run
    ],
)
def test_a_pattern_we_cannot_run_safely_accepts_any_value(pattern: str) -> None:
    described = describe_field("uid", "Player ID", "玩家ID", pattern)
    assert described.field.pattern == PERMISSIVE
    assert described.replaced == pattern
    assert not usable_pattern(pattern)


@pytest.mark.parametrize(
    ("regex", "pattern", "accepted", "refused"),
    [
        (None, None, [], []),
        ("", None, [], []),
        ("^[0-9]{5,12}$", "[0-9]{5,12}", ["12345"], ["1234", "12345x", "abc"]),
        # matched anywhere there: a value containing it is accepted there too
        ("[0-9]{3}", ".*?(?:[0-9]{3}).*", ["a123b", "123"], ["12a"]),
        ("^a|b$", ".*?(?:^a|b$).*", ["ax", "xb"], ["xa"]),
        ("^(?:asia|eu)$", "(?:asia|eu)", ["asia", "eu"], ["asiax"]),
        (r"^[|(]\|$", r"[|(]\|", ["||", "(|"], ["|"]),
        # a JavaScript literal with flags
        ("/^abc$/i", "(?i)abc", ["ABC", "abc"], ["abcd"]),
        ("/^x$/gu", "x", ["x"], ["y"]),
    ],
)
def test_a_dujiao_regex_as_a_whole_value_pattern(
    regex: str | None, pattern: str | None, accepted: list[str], refused: list[str]
) -> None:
    assert search_regex_pattern(regex) == pattern
    for value in accepted:
        assert pattern is not None and re.fullmatch(pattern, value), value
    for value in refused:
        assert pattern is not None and not re.fullmatch(pattern, value), value


def test_a_regex_literal_with_unknown_flags_is_unusable() -> None:
    pattern = search_regex_pattern("/x/q")
    assert pattern is not None and not usable_pattern(pattern)


def test_stored_fields_read_in_both_shapes() -> None:
    described = (AccountField("user_id", "[0-9]{5,12}", "Game user ID", "游戏用户ID"),)
    assert upstream_fields(fields_to_json(described)) == described
    # a row synced before descriptions were kept: its names, described as today
    [old] = upstream_fields(json.dumps(["zone_id"]))
    assert (old.name, old.label_en, old.label_zh, old.pattern) == (
        "zone_id",
        "Server (zone) ID",
        "区服ID",
        DIGITS,
    )
    assert upstream_fields(None) == () == upstream_fields("[]")


@pytest.mark.parametrize(
    ("stored", "required"),
    [
        ({"required": False}, False),
        ({"required": True}, True),
        ({}, True),  # synced before optional fields were kept: required, as it was asked
    ],
)
def test_a_stored_field_is_optional_only_when_it_says_so(stored: dict, required: bool) -> None:
    item = {"name": "note", "pattern": ".+", "label_en": "Note", "label_zh": "备注"} | stored
    [field] = upstream_fields(json.dumps([item]))
    assert field.required is required
    assert describe_field("note", "Note", "备注", None, required).field.required is required


def test_abc_is_no_game_user_id() -> None:
    fields = upstream_fields(json.dumps(["user_id"]))
    assert isinstance(check_account(fields, {"user_id": "abc"}), Refusal)
    assert not isinstance(check_account(fields, {"user_id": "12345678"}), Refusal)


PHONE = "1[3-9][0-9]{9}"


@pytest.mark.parametrize(
    ("given", "hints"),
    [
        # the upstream's placeholder wins, in each language
        (("uid", None, None, ".+", "5–12 digits", "5-12位数字"), ("5–12 digits", "5-12位数字")),
        # its prompt words dropped ("请输入5-12位数字" says 5-12位数字)
        (
            ("uid", None, None, None, "Enter 5 to 12 digits", "请输入5-12位数字"),
            ("5 to 12 digits", "5-12位数字"),
        ),
        # one language only: the other reader sees it too (the upstream's rule beats ours)
        (("uid", None, None, None, None, "请输入5-12位数字"), ("5-12位数字", "5-12位数字")),
        # a placeholder that only names the field again is no hint: the known one instead
        (
            ("phone", None, None, None, "Enter your phone number", "请输入手机号"),
            ("11 digits starting with 1", "以1开头的11位数字"),
        ),
        (("x", "Hero", "英雄", None, "Enter your Hero", "请输入"), ("", "")),
        # none given: the known field's while its pattern is the one checked
        (("user_id", None, None, None, None, None), ("digits only", "仅数字")),
        (
            ("phone", None, None, PHONE, None, None),
            ("11 digits starting with 1", "以1开头的11位数字"),
        ),
        (
            ("qq", None, None, None, None, None),
            ("5 to 12 digits, not starting with 0", "5-12位数字，不以0开头"),
        ),
        # … not when the upstream checks its own pattern: ours would describe another rule
        (("user_id", None, None, "[0-9]{6}", None, None), ("", "")),
        (("phone", None, None, "([0-9]", None, None), ("", "")),  # unusable: any value
        # nothing known: no hint
        (("hero_name", None, None, None, None, None), ("", "")),
        (("account", None, None, None, None, None), ("", "")),
        # too long is clipped, blanks folded
        (("x", None, None, None, "a  b" + "c" * 80, None), ("a b" + "c" * 61,) * 2),
    ],
)
def test_the_hint_shown_with_a_field(given: tuple, hints: tuple[str, str]) -> None:
    field = describe_field(*given[:4], True, *given[4:]).field
    assert (field.hint_en, field.hint_zh) == hints
    assert field.hint("zh-CN") == hints[1] and field.hint("en") == hints[0]


def test_stored_hints_read_back_and_old_rows_have_none() -> None:
    hinted = AccountField(
        "user_id", "[0-9]{5,12}", "Game user ID", "游戏用户ID", True, "5 to 12 digits", "5-12位数字"
    )
    assert upstream_fields(fields_to_json([hinted])) == (hinted,)
    plain = AccountField("note", ".+", "Note", "备注")
    assert "hint_en" not in fields_to_json([plain])  # stored as before hints were kept
    old = {"name": "note", "pattern": ".+", "label_en": "Note", "label_zh": "备注"}
    assert upstream_fields(json.dumps([old])) == (plain,)
