"""A fake 易支付 (epay) gateway on 127.0.0.1 for the sandbox and the tests."""

from sandbox.fake_epay.gateway import EpayFaults, EpayOrder, FakeEpayGateway

__all__ = ["EpayFaults", "EpayOrder", "FakeEpayGateway"]
