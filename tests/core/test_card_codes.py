"""A code's stored form: plain codes stay exactly as stored before fields existed;
structured codes are one canonical JSON; de-duplication is on the normalised whole code."""

from __future__ import annotations

import pytest

from core.crypto import CodeCipher
from core.delivery.codes import CardCode, as_text_file
from tests.conftest import TEST_SECRET


@pytest.mark.parametrize(
    ("code", "stored"),
    [
        (CardCode.plain("STEAM-0001"), "STEAM-0001"),  # byte-compatible with older rows
        (CardCode.plain('{"number":"x"}'), '{"number":"x"}'),
        (
            CardCode.of({"password": "密码 1", "number": "卡-1"}),
            '{"number":"卡-1","password":"密码 1"}',
        ),
        (
            CardCode.of({"number": "N", "link": "https://x.example/r?a=1", "expires": "2027"}),
            '{"expires":"2027","link":"https://x.example/r?a=1","number":"N"}',
        ),
    ],
)
def test_stored_form_and_back(code: CardCode, stored: str) -> None:
    assert code.stored() == stored
    assert CardCode.from_stored(stored) == code


@pytest.mark.parametrize(
    "text",
    ["{", "{not json}", '{"number": "spaced"}', '{"pin":"1"}', '{"number":""}', "[1]"],
)
def test_a_text_that_is_not_canonical_json_of_known_fields_is_a_plain_code(text: str) -> None:
    assert CardCode.from_stored(text) == CardCode.plain(text)


def test_fingerprints_are_on_the_normalised_whole_code() -> None:
    cipher = CodeCipher(TEST_SECRET)

    def digest(code: CardCode) -> bytes:
        return cipher.fingerprint(code.fingerprint_text())

    card = CardCode.of({"number": "A-1", "password": "P  1"})
    assert digest(CardCode.plain("A-1")) == cipher.fingerprint(" A-1 ")  # as before
    assert digest(card) == digest(CardCode.of({"number": "Ａ-1", "password": "P 1"}))
    assert digest(card) != digest(CardCode.of({"number": "A-1", "password": "P 2"}))
    assert digest(card) != digest(CardCode.plain("A-1"))


def test_a_txt_file_of_cards_has_a_header_and_tab_separated_fields() -> None:
    plain = [CardCode.plain("A"), CardCode.plain("B")]
    assert as_text_file(plain) == "A\nB\n"
    mixed = [CardCode.of({"number": "N1", "password": "P1"}), CardCode.plain("N2")]
    assert as_text_file(mixed) == "number\tpassword\nN1\tP1\nN2\t\n"
