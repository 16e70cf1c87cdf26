"""Builds bot/locales/*/LC_MESSAGES/messages.{po,mo} from the msgids in bot/ and the
translations in bot/locales/<locale>/*.json (one file per part of the bot, merged).
Run after changing any bot text:

    .venv/bin/python scripts/translations.py          # rewrite .po and .mo
    .venv/bin/python scripts/translations.py --check  # exit 1 if anything is missing or stale
"""

from __future__ import annotations

import gettext
import io
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "bot" / "locales"
FIXED_DATE = datetime(2026, 1, 1, tzinfo=UTC)


def extract() -> Catalog:
    """Every msgid passed to ``_`` or ``__`` under bot/, in source order."""
    catalog = Catalog()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT / "bot"), keywords={"_": None, "__": None}
    ):
        catalog.add(message)
    return catalog


def load_translations(locale: str) -> dict[str, str]:
    translations: dict[str, str] = {}
    for part in sorted((LOCALES / locale).glob("*.json")):
        for msgid, text in json.loads(part.read_text("utf-8")).items():
            if translations.get(msgid, text) != text:
                raise SystemExit(f"{part}: {msgid!r} is translated differently elsewhere")
            translations[msgid] = text
    return translations


def build(locale: str, template: Catalog) -> tuple[bytes, bytes, list[str]]:
    translations = load_translations(locale)
    catalog = Catalog(
        locale=locale,
        domain="messages",
        project="kameng",
        fuzzy=False,
        creation_date=FIXED_DATE,
        revision_date=FIXED_DATE,  # keeps the output reproducible
    )
    missing = []
    for message in template:
        if not message.id:
            continue
        text = translations.get(str(message.id))
        if not text:
            missing.append(str(message.id))
        catalog.add(message.id, text or "")
    po, mo = io.BytesIO(), io.BytesIO()
    write_po(po, catalog, omit_header=True, width=0)
    write_mo(mo, catalog)
    return po.getvalue(), mo.getvalue(), missing


def _messages_of(mo: bytes) -> dict[str, str]:
    """The translations a compiled catalogue holds, without its header: the header names
    the Babel version, which a fresh install may bump without changing any text."""
    messages = dict(gettext.GNUTranslations(io.BytesIO(mo))._catalog)  # type: ignore[attr-defined]
    messages.pop("", None)
    return messages


def main() -> int:
    check = "--check" in sys.argv
    template = extract()
    status = 0
    for locale in sorted({part.parent.name for part in LOCALES.glob("*/*.json")}):
        po, mo, missing = build(locale, template)
        target = LOCALES / locale / "LC_MESSAGES"
        if missing:
            print(f"{locale}: {len(missing)} untranslated: {missing}")
            status = 1
        if check:
            if (target / "messages.po").read_bytes() != po or _messages_of(
                (target / "messages.mo").read_bytes()
            ) != _messages_of(mo):
                print(f"{locale}: catalogue is stale; run scripts/translations.py")
                status = 1
        else:
            target.mkdir(parents=True, exist_ok=True)
            (target / "messages.po").write_bytes(po)
            (target / "messages.mo").write_bytes(mo)
    return status


if __name__ == "__main__":
    sys.exit(main())
