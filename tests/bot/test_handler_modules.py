"""Each handler module builds its routers on demand and stands on its own: ``setup()`` gives
a new router every time (so two dispatchers — a restart, a second bot in a test — each get
their own), nothing is a module-global router, and no handler module imports another.
Each handler names the services it uses: aiogram passes a handler only the keyword
arguments its signature names, so a misspelt service would reach no handler."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

from aiogram import Dispatcher, Router

import bot.handlers
from bot import errors
from core.platform import Platform

#: what the dispatcher and the middlewares give a handler besides the platform's services
NOT_SERVICES = {
    "bot",
    "sender",
    "state",
    "callback_data",
    "command",
    "i18n",
    "user",
    "broadcast_worker",
}


def _handler_modules() -> list[ModuleType]:
    return [
        importlib.import_module(f"bot.handlers.{info.name}")
        for info in pkgutil.iter_modules(bot.handlers.__path__)
    ]


def _factories(module: ModuleType) -> list[Callable[[], Router]]:
    return [
        value
        for name, value in vars(module).items()
        if name.startswith("setup") and inspect.isfunction(value)
    ]


def test_every_handler_module_builds_a_new_router_each_time() -> None:
    modules = [*_handler_modules(), errors]
    assert len(modules) > 20  # the walk found the handlers
    for module in modules:
        assert module.setup, module.__name__
        for setup in _factories(module):
            first, second = setup(), setup()
            assert isinstance(first, Router) and first is not second, setup.__qualname__
            # each can join its own dispatcher: a router belongs to one parent at a time
            Dispatcher().include_router(first)
            Dispatcher().include_router(second)
            handlers = sum(len(o.handlers) for o in first.observers.values()) + sum(
                len(o.handlers) for r in first.sub_routers for o in r.observers.values()
            )
            assert handlers, f"{setup.__qualname__} registered no handler"


def test_no_handler_module_keeps_a_router_of_its_own() -> None:
    for module in _handler_modules():
        routers = [name for name, value in vars(module).items() if isinstance(value, Router)]
        assert routers == [], f"{module.__name__} has module-global routers {routers}"


def test_no_handler_module_imports_another() -> None:
    for module in _handler_modules():
        tree = ast.parse(inspect.getsource(module))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else ["bot.handlers (relative)"]
                names += [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            imported = [name for name in names if name.startswith("bot.handlers")]
            assert imported == [], f"{module.__name__} imports {imported}"


def _routers(router: Router) -> Iterator[Router]:
    yield router
    for child in router.sub_routers:
        yield from _routers(child)


def test_every_handler_takes_services_by_their_platform_name_and_type() -> None:
    services = {field.name: field.type for field in dataclasses.fields(Platform)}
    seen: set[str] = set()
    for module in [*_handler_modules(), errors]:
        for setup in _factories(module):
            for router in _routers(setup()):
                for observer in router.observers.values():
                    callbacks = [h.callback for h in observer.handlers]
                    callbacks += [f.callback for h in observer.handlers for f in h.filters or []]
                    callbacks += [f.callback for f in observer._handler.filters or []]
                    for callback in callbacks:
                        if not inspect.isfunction(callback):
                            continue  # aiogram's own filters (Command, StateFilter, ...)
                        parameters = list(inspect.signature(callback).parameters.values())[1:]
                        for parameter in parameters:
                            where = f"{callback.__qualname__}({parameter.name})"
                            assert parameter.name != "platform", where
                            if parameter.name in NOT_SERVICES:
                                continue
                            assert parameter.name in services, f"{where}: no such service"
                            declared = str(parameter.annotation).removesuffix(" | None")
                            assert declared == services[parameter.name], where
                            seen.add(parameter.name)
    assert {"shop", "quotes", "catalogue", "settings"} <= seen  # the walk found the handlers


def test_every_texts_module_goes_by_its_own_name() -> None:
    """``texts`` is always bot/texts.py and ``supplier_texts`` always bot/supplier_texts.py:
    no module imports a texts module under another name, or its functions one by one."""
    root = Path(bot.__file__).parent
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            where = f"{path.relative_to(root.parent)}:{node.lineno}"
            assert not (node.module or "").endswith("texts"), f"{where} imports from a texts module"
            for alias in node.names:
                if alias.name.endswith("texts"):
                    assert alias.asname in (None, alias.name), (
                        f"{where}: {alias.name} as {alias.asname}"
                    )
