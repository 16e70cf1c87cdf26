"""``kameng upstream``: add, list, sync, show, price, category (and ``kameng sku move``) —
against a fake Dujiao-Next over HTTP."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from sandbox.fake_upstream import Catalogue, FakeDujiao, FakeProduct
from tests.test_cli_errors import Kameng, kameng, ok, refused  # noqa: F401 (the fixture)


@pytest.fixture
def dujiao() -> Iterator[FakeDujiao]:
    """A fake Dujiao-Next in a thread of its own (the CLI runs its own event loop)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    catalogue = Catalogue()
    catalogue.add(FakeProduct(1, "Steam 100", cost=92_00, face_value=100_00, stock=40))
    catalogue.add(FakeProduct(2, "iTunes 50", cost=45_00, face_value=50_00, stock=None))
    fake = FakeDujiao(catalogue)
    asyncio.run_coroutine_threadsafe(fake.start(), loop).result(10)
    yield fake
    asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def test_add_sync_show_and_a_failing_sync(kameng: Kameng, dujiao: FakeDujiao) -> None:  # noqa: F811
    ok(kameng("db", "upgrade"))
    added = ok(
        kameng(
            "upstream", "add", "dj", "--protocol", "dujiao", "--url", dujiao.base_url,
            "--key", dujiao.key, "--secret", dujiao.secret, "--markup", "8",
            "--category", "游戏点卡 Game cards",
        )
    )  # fmt: skip
    assert added.startswith("upstream dj added (dujiao)")
    assert dujiao.secret not in added
    assert ok(kameng("upstream", "sync", "dj")) == (
        "dj: 2 products; 2 new, 0 re-priced, 0 suspended, 0 resumed\n"
    )
    listed = ok(kameng("upstream", "list"))
    assert listed.startswith(f"dj  dujiao  {dujiao.base_url}  2/2 on sale  last sync ")
    assert listed.rstrip().endswith("ok")

    dujiao.catalogue.set_price(1, 90_00)
    assert "1 re-priced" in ok(kameng("upstream", "sync", "dj"))
    shown = ok(kameng("upstream", "show", "dj"))
    assert "balance there: " in shown and "not reported" not in shown
    assert "price rule (default): +8% +0.00, rounded up to 0.01" in shown
    assert "repriced  U1-1  99.36 → 97.20" in shown
    assert "error: none" in shown

    dujiao.catalogue.failing = 503
    first = kameng("upstream", "sync", "dj")
    assert first.exit_code == 1 and first.stderr == "error: a sync failed\n"
    assert first.stdout == "dj: sync failed, nothing changed: http 503 (admins alerted)\n"
    again = kameng("upstream", "sync", "dj")  # admins are told once, not every run
    assert again.stdout == "dj: sync failed, nothing changed: http 503\n"
    assert "error: http 503" in ok(kameng("upstream", "show", "dj"))
    assert "FAILING: http 503" in ok(kameng("upstream", "list"))


def test_the_secrets_may_come_from_the_environment(kameng: Kameng, dujiao: FakeDujiao) -> None:  # noqa: F811
    ok(kameng("db", "upgrade"))
    env = {"KAMENG_UPSTREAM_KEY": dujiao.key, "KAMENG_UPSTREAM_SECRET": dujiao.secret}
    add = (
        "upstream",
        "add",
        "dj",
        "--protocol",
        "dujiao",
        "--url",
        dujiao.base_url,
        "--category",
        "Games",
    )
    ok(kameng(*add, env=env))
    assert "2 new" in ok(kameng("upstream", "sync", "dj"))  # signed with the secret from env


def test_refusals_are_one_line(kameng: Kameng) -> None:  # noqa: F811
    ok(kameng("db", "upgrade"))
    assert refused(kameng("upstream", "sync", "nobody")) == "error: no upstream nobody"
    assert refused(kameng("upstream", "show", "nobody")) == "error: no upstream nobody"
    line = refused(
        kameng(
            "upstream", "add", "x", "--protocol", "kameng", "--url", "ftp://a", "--key", "k",
            "--category", "Games",
        )
    )  # fmt: skip
    assert line.startswith("error: ")
    # where its products go is the operator's choice, never a shelf named "Upstream"
    unshelved = kameng(
        "upstream", "add", "x", "--protocol", "kameng", "--url", "http://a", "--key", "k"
    )
    assert unshelved.exit_code != 0 and "--category" in unshelved.output


def test_an_upstream_category_mapped_and_a_synced_sku_moved(
    kameng: Kameng,  # noqa: F811
    dujiao: FakeDujiao,
) -> None:
    ok(kameng("db", "upgrade"))
    ok(
        kameng(
            "upstream", "add", "dj", "--protocol", "dujiao", "--url", dujiao.base_url,
            "--key", dujiao.key, "--secret", dujiao.secret, "--category", "Imported",
        )
    )  # fmt: skip
    dujiao.catalogue.products[2].category = "Streaming"
    unknown = refused(kameng("upstream", "category", "dj", "--from", "Games", "--to", "Cards"))
    assert unknown == "error: no category Cards; known: Imported"
    mapped = kameng(
        "upstream", "category", "dj", "--from", "Games", "--to", "游戏点卡 Game cards", "--create"
    )  # fmt: skip
    assert ok(mapped) == "dj: new products of 'Games' go to '游戏点卡 Game cards'\n"
    shown = ok(kameng("upstream", "show", "dj"))
    assert "new products go to: 'Imported' unless mapped" in shown
    assert "category map: 'Games' → '游戏点卡 Game cards'" in shown
    ok(kameng("upstream", "sync", "dj"))
    assert "[游戏点卡 Game cards]" in ok(kameng("sku", "show", "U1-1"))  # "Games", mapped
    assert "[Imported]" in ok(kameng("sku", "show", "U1-2"))  # "Streaming", unmapped

    typo = refused(kameng("sku", "move", "U1-2", "--category", "Vidoe"))
    assert typo == "error: no category Vidoe; known: Imported, 游戏点卡 Game cards"
    moved = ok(kameng("sku", "move", "U1-2", "--category", "Video", "--create"))
    assert moved == "U1-2 iTunes 50 now in [Video]\n"
    dujiao.catalogue.set_price(2, 40_00)
    assert "1 re-priced" in ok(kameng("upstream", "sync", "dj"))
    assert "[Video]" in ok(kameng("sku", "show", "U1-2"))  # the sync kept it there
    assert "'games' unmapped" in ok(
        kameng("upstream", "category", "dj", "--from", "games", "--unmap")
    )
    usage = kameng("upstream", "category", "dj", "--from", "Games")
    assert usage.exit_code == 2 and "give --to CATEGORY, or --unmap" in usage.stderr
