"""Every metric Kameng defines, in one place (``GET /metrics``, ``web/health.py``).

Counters and histograms of what this process did live in prometheus-client's default
registry, which also carries the process's CPU, memory and garbage collector: the bot and
the API in one process (``kameng serve``) are scraped together. What the database knows
(stock, the outbox, broadcasts) is read when scraped instead (``core/vitals.py``), and
written here by ``vitals_families``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from prometheus_client import Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from core.orders import Receipt
from core.vitals import Vitals
from telemetry import context

log = logging.getLogger("kameng.orders")

# seconds: from a fast read to a slow purchase
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

ORDERS = Counter(
    "kameng_orders",
    "Orders placed through this process, by where they came from (bot, api).",
    ["source"],
)
REVENUE = Counter(
    "kameng_revenue_minor_units",
    "What those orders charged, in the currency's minor units (fen).",
    ["source"],
)
TELEGRAM_CALLS = Counter(
    "kameng_telegram_calls",
    "Bot API calls by method and HTTP status ('network': no answer); errors are the "
    "statuses other than 200.",
    ["method", "status"],
)
BOT_UPDATES = Histogram(
    "kameng_bot_update_seconds",
    "Time the bot took over one update, by its type (message, callback_query, ...).",
    ["update"],
    buckets=LATENCY_BUCKETS,
)
API_REQUESTS = Histogram(
    "kameng_api_request_seconds",
    "Reseller API requests by method, route (its canonical path) and status.",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)


def order_placed(source: str, receipt: Receipt) -> None:
    """One new order (not a replay of one) through ``source``: counted, named in the log
    context of what follows, and one INFO line (never its codes)."""
    ORDERS.labels(source).inc()
    REVENUE.labels(source).inc(receipt.total)
    context.bind(order_id=receipt.order_id)
    log.info(
        "order %d placed via %s: %s x%d, total %d",
        receipt.order_id,
        source,
        receipt.sku_code,
        receipt.quantity,
        receipt.total,
    )


def telegram_call(method: str, status: int | str) -> None:
    TELEGRAM_CALLS.labels(method, str(status)).inc()


def vitals_families(vitals: Vitals, *, client_closed: int) -> list[Metric]:
    """The scrape-time families: stock, outbox, broadcasts, and the API's hung-up clients."""
    in_stock = GaugeMetricFamily(
        "kameng_codes_in_stock", "Available codes per SKU on sale (unique stock).", labels=["sku"]
    )
    low = GaugeMetricFamily(
        "kameng_stock_low",
        "1 when a SKU on sale has fewer codes than its low-stock threshold.",
        labels=["sku"],
    )
    for line in vitals.stock:
        in_stock.add_metric([line.sku], line.available)
        low.add_metric([line.sku], 1 if line.low else 0)
    backlog = GaugeMetricFamily("kameng_outbox_pending", "Notices waiting to be sent.")
    backlog.add_metric([], vitals.outbox_pending)
    oldest = GaugeMetricFamily(
        "kameng_outbox_oldest_age_seconds", "Age of the oldest notice waiting (0: none)."
    )
    oldest.add_metric([], vitals.outbox_oldest_age)
    broadcast = GaugeMetricFamily(
        "kameng_broadcast_recipients",
        "Recipients of each broadcast being sent, by status (pending, sending, sent, "
        "blocked, failed).",
        labels=["campaign", "status"],
    )
    for campaign in vitals.broadcasts:
        for status, count in sorted(campaign.recipients.items()):
            broadcast.add_metric([str(campaign.campaign_id), status], count)
    closed = CounterMetricFamily(
        "kameng_api_client_closed",
        "API clients that hung up before their answer (not errors of ours).",
    )
    closed.add_metric([], client_closed)
    return [in_stock, low, backlog, oldest, broadcast, closed]


class Families:
    """Ready families as a collector, for ``prometheus_client.generate_latest``."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self._families
