"""A code (卡密) as the buyer receives it: one or more named fields.

Real cards are often a card number plus a password (卡号 + 卡密), sometimes a link or an
expiry date. A code with only a ``number`` is a *plain* code and is stored as that text
itself, exactly as before fields existed (rows stored then read the same). Any other code
is stored as one canonical serialisation — JSON with sorted field names, no spaces — so
claiming and delivery stay one encrypted column. Platform de-duplication fingerprints the
normalised whole code: a plain code as before, a structured one as the canonical JSON of
its normalised values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from core.crypto import normalise_code

FIELDS = ("number", "password", "link", "expires")  # the order they are shown in


@dataclass(frozen=True, slots=True)
class CardCode:
    fields: tuple[tuple[str, str], ...]  # (name, value) in FIELDS order, values non-empty

    @classmethod
    def of(cls, values: Mapping[str, str]) -> CardCode:
        unknown = set(values) - set(FIELDS)
        if unknown:
            raise ValueError(f"unknown code fields: {sorted(unknown)}")
        return cls(tuple((name, values[name]) for name in FIELDS if values.get(name)))

    @classmethod
    def plain(cls, number: str) -> CardCode:
        return cls((("number", number),))

    @property
    def is_plain(self) -> bool:
        return len(self.fields) == 1 and self.fields[0][0] == "number"

    def as_dict(self) -> dict[str, str]:
        return dict(self.fields)

    def values(self) -> list[str]:
        return [value for _, value in self.fields]

    def stored(self) -> str:
        """What is encrypted and claimed: a plain code's own text, else canonical JSON."""
        if self.is_plain:
            return self.fields[0][1]
        return _canonical(self.as_dict())

    def fingerprint_text(self) -> str:
        """The normalised whole code, the text that is fingerprinted for de-duplication."""
        if self.is_plain:
            return normalise_code(self.fields[0][1])
        return _canonical({name: normalise_code(value) for name, value in self.fields})

    @classmethod
    def from_stored(cls, text: str) -> CardCode:
        """The inverse of ``stored``. Only a text that *is* the canonical JSON of known
        fields, and not of a lone ``number`` (a plain code is never stored as JSON), reads as
        structured; any other text is a plain code, as it always was. (A plain code whose
        text is itself such JSON would read as those fields: the same content, labelled.)"""
        if text.startswith("{"):
            try:
                data = json.loads(text)
            except ValueError:
                data = None
            if (
                isinstance(data, dict)
                and data
                and set(data) <= set(FIELDS)
                and all(isinstance(v, str) and v for v in data.values())
                and _canonical(data) == text
                and set(data) != {"number"}
            ):
                return cls.of(data)
        return cls.plain(text)

    def __repr__(self) -> str:  # a code: keep it out of logs
        return f"CardCode(fields={[name for name, _ in self.fields]})"


def _canonical(values: Mapping[str, str]) -> str:
    return json.dumps(dict(values), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def as_text_file(cards: list[CardCode]) -> str:
    """A ``.txt`` of codes, one a line. Plain codes only: each code as it is (as always).
    Otherwise a header line of field names, then each code's fields tab-separated."""
    if all(card.is_plain for card in cards):
        return "".join(f"{card.fields[0][1]}\n" for card in cards)
    present = {name for card in cards for name, _ in card.fields}
    names = [name for name in FIELDS if name in present]
    rows = ["\t".join(names)]
    for card in cards:
        values = card.as_dict()
        rows.append("\t".join(values.get(name, "") for name in names))
    return "\n".join(rows) + "\n"
