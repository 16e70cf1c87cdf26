"""A sale price is above 0 and at most the face value, unless an operator insists."""

from __future__ import annotations

import pytest

from core.errors import PriceNotAllowed
from core.models import Role
from core.platform import Platform
from core.pricing.rules import check_sale_price
from core.settings import MalformedSecretKey, MissingSecretKey, Settings
from tests.conftest import TEST_SECRET
from tests.factories import make_sku

ADMIN_ID = 4242

# price, face value, allowed without force, the refusal's reason
CASES = [
    (92_00, 100_00, True, None),
    (100_00, 100_00, True, None),  # at face value: no margin for the reseller, but allowed
    (1, 100_00, True, None),
    (100_01, 100_00, False, "above_face_value"),
    (1000_00, 10_00, False, "above_face_value"),  # 1000 typed for 10.00
    (0, 100_00, False, "zero"),
]


@pytest.mark.parametrize(("price", "face_value", "allowed", "reason"), CASES)
def test_sale_price_rule(price: int, face_value: int, allowed: bool, reason: str | None) -> None:
    if allowed:
        check_sale_price(price, face_value)
    else:
        with pytest.raises(PriceNotAllowed) as refused:
            check_sale_price(price, face_value)
        assert refused.value.params == {"reason": reason, "price": price, "face_value": face_value}
    check_sale_price(price, face_value, allow_above_face=True)  # forced: always allowed


async def test_a_level_price_above_face_value_is_refused_unless_allowed(
    platform: Platform,
) -> None:
    await make_sku(platform, stock=1)  # face value 100.00
    await platform.catalogue.grant_role(ADMIN_ID, Role.ADMIN, actor="test")
    with pytest.raises(PriceNotAllowed):
        await platform.pricing_admin.set_level_price(ADMIN_ID, "STEAM-100", "gold", 120_00)
    pricing = await platform.pricing_admin.set_level_price(
        ADMIN_ID, "STEAM-100", "gold", 120_00, allow_above_face=True
    )
    assert [(p.level, p.price) for p in pricing.level_prices if p.level == "gold"] == [
        ("gold", 120_00)
    ]


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", MissingSecretKey),
        ("too-short", MalformedSecretKey),
        (TEST_SECRET + "\n", MalformedSecretKey),
        (f"'{TEST_SECRET}'", MalformedSecretKey),
        (TEST_SECRET, None),
    ],
)
def test_secret_key_is_checked_before_use(key: str, problem: type[Exception] | None) -> None:
    settings = Settings(secret_key=key, _env_file=None)
    if problem is None:
        assert settings.require_secret_key() == key
    else:
        with pytest.raises(problem):
            settings.require_secret_key()
