"""Bearer codes the platform hands out (invites, vouchers): generated at random, shown once,
stored only as a keyed digest (HMAC-SHA256 with a key derived from ``KAMENG_SECRET_KEY``
for one purpose), so a copy of the database redeems nothing.

A code looks like ``7KQM-XR4T-PZ2N``: twelve characters from an alphabet without 0/O, 1/I/L
(about 59 bits), safe in a Telegram ``/start`` deep link. Typing it in lower case, with
spaces or without the dashes finds the same code.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata

from core.crypto import derive_key

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
GROUPS = 3
GROUP_SIZE = 4
MAX_TYPED_LENGTH = 64  # longer input is not a code; refuse before hashing


def normalise(text: str) -> str:
    """The form a code is compared in: NFKC, upper case, letters and digits only."""
    folded = unicodedata.normalize("NFKC", text[:MAX_TYPED_LENGTH]).upper()
    return "".join(ch for ch in folded if ch.isascii() and ch.isalnum())


class SecretCodes:
    """Codes for one ``purpose`` (an invite digest never matches a voucher digest)."""

    def __init__(self, secret: str, purpose: bytes) -> None:
        self._key = derive_key(secret, purpose)

    @staticmethod
    def new() -> str:
        groups = (
            "".join(secrets.choice(ALPHABET) for _ in range(GROUP_SIZE)) for _ in range(GROUPS)
        )
        return "-".join(groups)

    def digest(self, code: str) -> bytes:
        return hmac.new(self._key, normalise(code).encode(), hashlib.sha256).digest()

    def __repr__(self) -> str:  # never show key material
        return "SecretCodes(<secret>)"
