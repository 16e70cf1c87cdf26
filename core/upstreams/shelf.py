"""Which category a synced upstream product is shelved in: one pure rule.

An operator who moved a SKU (``kameng sku move``, the bot's 🗂 Move) has the last word: a
product we already list keeps the category its SKU is in now, whatever the upstream says.
A new product goes where the upstream's own category is mapped
(``kameng upstream category``), and otherwise to the upstream's default category — never
to a category named after the upstream's, which resellers would see as a supplier's label.
"""

from __future__ import annotations

from collections.abc import Mapping


def category_key(name: str) -> str:
    """How an upstream's category name is matched: spaces collapsed, case ignored."""
    return " ".join(name.split()).casefold()


def shelve(
    current: int | None,
    upstream_category: str | None,
    mapping: Mapping[str, int],
    default: int,
) -> int:
    """The category id for a product: ``current`` (its SKU's category, None for a new
    product) > ``mapping`` of ``category_key(upstream_category)`` > ``default``."""
    if current is not None:
        return current
    if upstream_category:
        mapped = mapping.get(category_key(upstream_category))
        if mapped is not None:
            return mapped
    return default
