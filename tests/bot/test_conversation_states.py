"""Every conversation step has its own name: aiogram keys FSM states by class name, so two
``RejectFlow.reason`` in different modules would route one flow's replies into the other."""

from __future__ import annotations

import importlib
import pkgutil

from aiogram.fsm.state import StatesGroup

import bot.handlers


def test_no_two_conversation_steps_share_a_state_name() -> None:
    owners: dict[str, str] = {}
    for module_info in pkgutil.iter_modules(bot.handlers.__path__):
        module = importlib.import_module(f"bot.handlers.{module_info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, StatesGroup)
                and value is not StatesGroup
            ):
                if value.__module__ != module.__name__:
                    continue
                for state in value.__all_states_names__:
                    assert state not in owners, f"{state} in {module.__name__} and {owners[state]}"
                    owners[state] = module.__name__
    assert owners  # the walk found the flows
