"""Fake upstream platforms on 127.0.0.1, one per protocol Kameng speaks, scriptable.

``FakeDujiao`` speaks Dujiao-Next's ``/api/v1/upstream/*`` (signed requests checked exactly,
signed callbacks); ``FakeKameng`` speaks a Kameng's reseller API. Both share ``Catalogue``
(products, prices, stock, a product gone, a failing sync) and an order ``Mode`` (immediate
codes, slow with a callback, the callback lost, failure, partial delivery, out of stock, a
timeout after taking the order, a callback with a wrong signature).
"""

from sandbox.fake_upstream.base import Catalogue, FakeProduct, FakeUpstream, Mode
from sandbox.fake_upstream.dujiao import FakeDujiao
from sandbox.fake_upstream.kameng import FakeKameng

__all__ = ["Catalogue", "FakeDujiao", "FakeKameng", "FakeProduct", "FakeUpstream", "Mode"]
