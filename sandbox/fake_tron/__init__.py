"""A fake TRON node speaking TronGrid's HTTP shapes, for the sandbox and the tests."""

from sandbox.fake_tron.server import USDT_CONTRACT, FakeTron, FakeTronServer

__all__ = ["USDT_CONTRACT", "FakeTron", "FakeTronServer"]
