"""The payment providers a deployment has, built once from settings (``core/platform.py``).

Each provider module offers a factory ``(settings, fetch) -> provider | None`` (None: not
configured); adding a provider is its module and one line in ``FACTORIES``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from core.errors import UnknownPaymentMethod
from core.payments.epay import EpayProvider
from core.payments.provider import Fetch, PaymentProvider
from core.settings import Settings


def epay(settings: Settings, fetch: Fetch) -> PaymentProvider | None:
    if not (settings.epay_gateway and settings.epay_pid and settings.epay_key):
        return None
    gateway = (
        settings.epay_gateway
        if settings.epay_gateway.endswith("/")
        else settings.epay_gateway + "/"
    )
    return EpayProvider(
        gateway=gateway,
        pid=settings.epay_pid,
        key=settings.epay_key,
        pay_type=settings.epay_type,
        fee_bps=settings.epay_fee_bps,
        fetch=fetch,
        mode=settings.epay_mode,
        client_ip=settings.epay_client_ip,
    )


Factory = Callable[[Settings, Fetch], PaymentProvider | None]
FACTORIES: list[Factory] = [
    epay,
]


class Providers:
    """The enabled providers, by name, in ``FACTORIES`` order (the bot's method buttons)."""

    def __init__(self, providers: list[PaymentProvider]) -> None:
        self._by_name = {p.name: p for p in providers}

    @classmethod
    def from_settings(cls, settings: Settings, fetch: Fetch) -> Providers:
        built = (factory(settings, fetch) for factory in FACTORIES)
        return cls([p for p in built if p is not None])

    def get(self, name: str) -> PaymentProvider:
        provider = self._by_name.get(name)
        if provider is None:
            raise UnknownPaymentMethod(method=name)
        return provider

    @property
    def names(self) -> list[str]:
        return list(self._by_name)

    def __iter__(self) -> Iterator[PaymentProvider]:
        return iter(self._by_name.values())
