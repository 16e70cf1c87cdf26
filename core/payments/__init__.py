"""Payments (issue 15): top-ups paid through a provider and credited without an admin.

- ``provider.py``: what a provider is (``PaymentProvider``: create, verify, query) and what
  it answers (``PayStep``, ``Paid``, ``Unpaid``, ``Unknown``);
- ``registry.py``: the enabled providers, built once from settings (one factory each);
- ``epay.py``: 易支付;
- ``service.py``: the use cases (``Payments``), load → decide → write.
"""

from core.payments.provider import (
    Fetch,
    NewPayment,
    Paid,
    PaymentProvider,
    PayStep,
    Status,
    Unknown,
    Unpaid,
    UrllibFetch,
)
from core.payments.registry import FACTORIES, Providers
from core.payments.service import (
    CREDITED_NOTICE,
    HELD_NOTICE,
    RECOVER,
    Created,
    PaymentRules,
    Payments,
    PaymentView,
    Recovery,
    Settled,
    ledger_key,
)

__all__ = [
    "CREDITED_NOTICE",
    "FACTORIES",
    "HELD_NOTICE",
    "RECOVER",
    "Created",
    "Fetch",
    "NewPayment",
    "Paid",
    "PayStep",
    "PaymentProvider",
    "PaymentRules",
    "PaymentView",
    "Payments",
    "Providers",
    "Recovery",
    "Settled",
    "Status",
    "Unknown",
    "Unpaid",
    "UrllibFetch",
    "ledger_key",
]
