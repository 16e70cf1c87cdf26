"""易支付's MD5 signature against worked examples from public documentation.

The algorithm (non-empty parameters but ``sign``/``sign_type``, sorted by name, joined
``a=b&c=d``, the key appended, MD5 lower-case hex) is the one of the epay gateways; the
worked examples below are published for gateways that sign the same way:

- DefuPay's developer guide, "签名生成算法" (https://static.kancloud.cn/q86849180/defupay/921626):
  ``uid=1000, timestamp=1548047628`` with the key ``58b31d465652be856d7ed80977aa4ce4``
  signs ``timestamp=1548047628&uid=1000`` + key to ``15540d3398e5ed2a37533e3fc032e1a0``.
- A deposit API's "Signature generation" (http://res.easydoc.net/doc/45090039/BHm31QHg/YJbJQqOV):
  six parameters, the URL not encoded, key ``testSecretKey`` →
  ``5d50a182db6fa8a347cc85f36ca492f2``.
"""

from __future__ import annotations

from core.payments.epay import sign, signature_ok, signed, signing_string


def test_defupay_worked_example() -> None:
    params = {"uid": "1000", "timestamp": "1548047628"}
    assert signing_string(params) == "timestamp=1548047628&uid=1000"
    assert sign(params, "58b31d465652be856d7ed80977aa4ce4") == "15540d3398e5ed2a37533e3fc032e1a0"


def test_deposit_api_worked_example_with_an_unencoded_url() -> None:
    params = {
        "apiKey": "testApiKey",
        "customerNo": "test100000",
        "channel": "bank",
        "amount": "100.00",
        "notifyUrl": "http://test.com/getNotify",
        "ip": "127.0.0.1",
    }
    assert signing_string(params) == (
        "amount=100.00&apiKey=testApiKey&channel=bank&customerNo=test100000"
        "&ip=127.0.0.1&notifyUrl=http://test.com/getNotify"
    )
    assert sign(params, "testSecretKey") == "5d50a182db6fa8a347cc85f36ca492f2"


def test_sign_and_sign_type_and_empty_values_are_not_signed() -> None:
    params = {"uid": "1000", "timestamp": "1548047628", "param": "", "sign_type": "MD5"}
    key = "58b31d465652be856d7ed80977aa4ce4"
    assert sign(params, key) == "15540d3398e5ed2a37533e3fc032e1a0"
    assert signature_ok({**params, "sign": "15540d3398e5ed2a37533e3fc032e1a0"}, key)
    assert signature_ok({**params, "sign": "15540D3398E5ED2A37533E3FC032E1A0"}, key)


def test_a_notification_is_refused_if_any_signed_value_changed() -> None:
    key = "epay-merchant-key"
    notice = signed(
        {
            "pid": "1001",
            "trade_no": "2026120412000012345",
            "out_trade_no": "261204a1b2c3d4e5f60718",
            "type": "alipay",
            "name": "top-up",
            "money": "100.00",
            "trade_status": "TRADE_SUCCESS",
        },
        key,
    )
    assert signature_ok(notice, key)
    assert not signature_ok({**notice, "money": "1000.00"}, key)
    assert not signature_ok(notice, "another-key")
    assert not signature_ok({k: v for k, v in notice.items() if k != "sign"}, key)
