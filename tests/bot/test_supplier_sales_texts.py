"""Long digests and statements stay within one Telegram message and never cut a tag."""

from __future__ import annotations

from bot import supplier_sales_texts
from bot.i18n import make_i18n


def test_a_digest_of_many_skus_fits_one_message() -> None:
    lines = [
        {
            "sku": f"SKU-{n:03d}",
            "name": "A long product name " * 6,
            "orders": 1,
            "units": 2,
            "earnings": 171_68,
        }
        for n in range(200)
    ]
    payload = {
        "period": "daily",
        "start": "2026-11-26T00:00:00+00:00",
        "end": "2026-11-27T00:00:00+00:00",
        "lines": lines,
        "orders": 200,
        "units": 400,
        "earnings": 200 * 171_68,
    }
    i18n = make_i18n()
    for locale in ("en", "zh_CN"):
        with i18n.context(), i18n.use_locale(locale):
            text = supplier_sales_texts.sale_digest(payload)
        assert len(text) <= 4096
        assert text.count("<code>") == text.count("</code>")
        shown = text.count("<code>SKU-")
        assert 0 < shown < 200
        assert f"{200 - shown}" in text.splitlines()[-1]
