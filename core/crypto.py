"""Codes at rest: AES-GCM ciphertext plus a keyed fingerprint for platform-wide de-duplication.

Both keys are derived from ``KAMENG_SECRET_KEY`` with HKDF, so one setting rotates both.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import unicodedata

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.errors import SecretKeyMismatch

_NONCE_BYTES = 12


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"kameng", info=purpose).derive(
        secret.encode()
    )


def derive_key(secret: str, purpose: bytes) -> bytes:
    """A 32-byte key for one purpose, derived from the secret key."""
    return _derive(secret, purpose)


def normalise_code(code: str) -> str:
    """The form a code is compared in: NFKC, no surrounding or repeated inner whitespace."""
    return " ".join(unicodedata.normalize("NFKC", code).split())


class CodeCipher:
    def __init__(self, secret: str) -> None:
        self._aead = AESGCM(_derive(secret, b"code-encryption"))
        self._fingerprint_key = _derive(secret, b"code-fingerprint")

    def encrypt(self, code: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, code.encode(), None)

    def decrypt(self, blob: bytes) -> str:
        try:
            plain = self._aead.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], None)
        except InvalidTag:
            # Every stored code is ours, so a failed tag means another key encrypted it
            # (KAMENG_SECRET_KEY changed), not tampering with one row: say so, once, for
            # every front, instead of a bare InvalidTag.
            raise SecretKeyMismatch() from None
        return plain.decode()

    def fingerprint(self, code: str) -> bytes:
        return hmac.new(
            self._fingerprint_key, normalise_code(code).encode(), hashlib.sha256
        ).digest()

    def __repr__(self) -> str:  # never show key material
        return "CodeCipher(<secret>)"
