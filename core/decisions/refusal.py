"""What every decision may answer instead of going ahead."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import KamengError


@dataclass(frozen=True)
class Refusal:
    """The request is refused and nothing is written: the use case raises ``error``."""

    error: KamengError
