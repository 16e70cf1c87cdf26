"""Codes at rest: AES-GCM ciphertext plus a keyed fingerprint for platform-wide de-duplication.

Both keys are derived from ``KAMENG_SECRET_KEY`` with HKDF, so one setting rotates both.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import unicodedata

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE_BYTES = 12


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"kameng", info=purpose).derive(
        secret.encode()
    )


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
        return self._aead.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], None).decode()

    def fingerprint(self, code: str) -> bytes:
        return hmac.new(
            self._fingerprint_key, normalise_code(code).encode(), hashlib.sha256
        ).digest()

    def __repr__(self) -> str:  # never show key material
        return "CodeCipher(<secret>)"


def derive_key(secret: str, purpose: bytes) -> bytes:
    """A 32-byte key for ``purpose`` derived from ``KAMENG_SECRET_KEY`` (HKDF-SHA256)."""
    return _derive(secret, purpose)
