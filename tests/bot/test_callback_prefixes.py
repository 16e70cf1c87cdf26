"""Every button's callback data starts with its class's prefix; two classes sharing one
would route a press to the wrong handler (or fail to unpack it)."""

from __future__ import annotations

import importlib
import pkgutil
from collections import defaultdict

from aiogram.filters.callback_data import CallbackData

import bot


def _all_callback_data_classes() -> list[type[CallbackData]]:
    for module in pkgutil.walk_packages(bot.__path__, "bot."):
        importlib.import_module(module.name)
    found: list[type[CallbackData]] = []
    pending = list(CallbackData.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return [cls for cls in found if cls.__module__.startswith("bot.")]


def test_every_callback_data_prefix_is_used_by_one_class() -> None:
    classes = _all_callback_data_classes()
    by_prefix: dict[str, list[str]] = defaultdict(list)
    for cls in classes:
        by_prefix[cls.__prefix__].append(f"{cls.__module__}.{cls.__qualname__}")
    shared = {prefix: names for prefix, names in by_prefix.items() if len(names) > 1}
    assert len(classes) > 20  # the walk found the bot's keyboards
    assert shared == {}
