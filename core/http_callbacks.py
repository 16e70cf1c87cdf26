"""The one HTTP callback sender's logic: every order callback to a shop's own system, whichever
protocol it speaks, claimed, posted, logged and retried the same way.

A state change writes an outbox row in its own transaction: kind ``order_callback``
(Kameng's signed JSON, ``core/order_callbacks.py``) or ``dujiao_callback`` (the Dujiao-Next
document's, ``core/dujiao_server.py``). A round (``HttpCallbacks.round``):

1. claims due rows of every callback kind in one ``Outbox.claim`` (the one lease, so
   several processes share the work and never hold one row at once), renewing the lease
   while the round runs;
2. asks the kind's ``Builder`` for the request — URL, body, signed headers, how to read
   the answer — built now, from the database as it is (a builder that finds nowhere to
   send answers ``Gone``);
3. checks the URL again (``order_callbacks.check_url``: no private address unless allowed),
   POSTs it through the front's ``Post`` (``core`` imports no HTTP client), and decides
   what the answer means (``core/decisions/callbacks.py``: the one retry schedule);
4. writes the attempt to ``callback_deliveries`` in the transaction that marks the outbox
   row sent, rescheduled or given up — a worker that lost its lease meanwhile writes
   nothing (``LeaseLost``), so the log has one line per attempt that counted.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from core.clock import Clock
from core.db import Database
from core.decisions.callbacks import Attempt, Outcome, decide_attempt
from core.errors import CallbackUrlRefused
from core.leases import renewing
from core.models import CallbackDelivery
from core.outbox import Envelope, LeaseLost, Outbox, finish, reschedule
from core.outbox import Outcome as RowOutcome

log = logging.getLogger("kameng.callbacks")

TIMEOUT_SECONDS = 10.0
MAX_URL = 500  # a callback URL, as the delivery log keeps it
ERROR_LIMIT = 500
MAX_EVENT = 32


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes = b""


class Post(Protocol):
    """One HTTP POST, no redirects followed: the answer, or an exception for a network
    error or a timeout. The front's HTTP client (``web/callback_sender.py``)."""

    async def __call__(
        self, url: str, body: bytes, headers: Mapping[str, str], *, seconds: float
    ) -> Answer: ...


@dataclass(frozen=True)
class Request:
    """One callback ready to POST, as its protocol words and signs it."""

    url: str
    body: bytes
    headers: Mapping[str, str] = field(repr=False)  # signatures: not for logs
    event: str  # for the delivery log
    accepted: Callable[[int | None, bytes], bool]  # the protocol's "the shop took it"


@dataclass(frozen=True)
class Gone:
    """Nowhere to send it (no callback set, the order or its key removed): given up."""

    event: str
    reason: str
    url: str = ""


class Builder(Protocol):
    """A callback protocol: the outbox kind it sends, and the request for one claimed row."""

    kind: str

    async def request(self, envelope: Envelope) -> Request | Gone: ...


# the one rule for callback URLs: checked when a shop sets one and before every POST


class Resolve(Protocol):
    async def __call__(self, host: str, port: int) -> list[str]: ...


async def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (the system resolver)."""
    try:
        infos = await asyncio.wait_for(asyncio.get_running_loop().getaddrinfo(host, port), 5)
    except TimeoutError:
        raise OSError(f"{host} did not resolve in time") from None
    return [str(info[4][0]) for info in infos]


def _refused_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


async def check_url(url: str, *, allow_private: bool, resolver: Resolve = resolve) -> str:
    """``url`` when it may receive callbacks: http(s), a host, at most 500 characters, and
    (unless ``allow_private``) every address it resolves to public — loopback, private,
    link-local, shared and reserved ranges are refused (``CallbackUrlRefused``)."""
    url = url.strip()
    if not url or len(url) > MAX_URL or not url.isprintable() or " " in url:
        raise CallbackUrlRefused(reason="malformed")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CallbackUrlRefused(reason="malformed")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise CallbackUrlRefused(reason="malformed") from None
    if allow_private:
        return url
    try:
        addresses = await resolver(parts.hostname, port)
    except OSError:
        raise CallbackUrlRefused(reason="unresolvable") from None
    if not addresses or any(_refused_address(a) for a in addresses):
        raise CallbackUrlRefused(reason="private_address")
    return url


class HttpCallbacks:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        outbox: Outbox,
        builders: Sequence[Builder],
        *,
        allow_private: bool = False,
        resolver: Resolve = resolve,
    ) -> None:
        self._db, self._clock, self._outbox = db, clock, outbox
        self._builders = {builder.kind: builder for builder in builders}
        self._allow_private = allow_private
        self._resolver = resolver

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self._builders)

    async def round(
        self,
        worker: str,
        post: Post,
        *,
        limit: int = 20,
        stopping: Callable[[], bool] = lambda: False,
    ) -> int:
        """One pass over the due callbacks of every kind; how many were delivered. When
        ``stopping`` turns true the rows not yet posted are handed back untouched."""
        envelopes = await self._outbox.claim(worker, kinds=self.kinds, limit=limit)
        if not envelopes:
            return 0
        in_hand = list(envelopes)

        async def renew() -> None:  # a slow shop must not let another worker take the rest
            await self._outbox.renew(in_hand)

        delivered = 0
        async with renewing(renew, self._outbox.lease):
            while in_hand:
                if stopping():
                    await self._outbox.release(in_hand)
                    break
                envelope = in_hand.pop(0)
                outcome = await self.deliver(envelope, post)
                delivered += outcome == Outcome.DELIVERED
                if outcome != Outcome.DELIVERED:
                    log.info(
                        "callback %s (%s) for order %s: %s",
                        envelope.id,
                        envelope.kind,
                        envelope.payload.get("order_id"),
                        outcome,
                    )
        return delivered

    async def deliver(self, envelope: Envelope, post: Post) -> str:
        """Post one claimed row; the outcome written to its log line (``lease_lost`` when
        another worker took the row over meanwhile: its attempt is the one logged)."""
        status: int | None = None
        body = b""
        error: str | None = None
        try:
            built = await self._build(envelope)
        except Exception as failed:  # a secret that no longer decrypts, say: this row
            # is retried on the schedule and logged; the rest of the round goes on
            log.exception(
                "callback %s (%s): its request could not be built", envelope.id, envelope.kind
            )
            built = None
            error = f"not built: {type(failed).__name__}"
        if built is None:
            url, event = "", str(envelope.payload.get("event", envelope.kind))
        elif isinstance(built, Gone):
            url, event, error = built.url, built.event, built.reason
        else:
            url, event = built.url, built.event
            try:
                await check_url(url, allow_private=self._allow_private, resolver=self._resolver)
                answer = await post(url, built.body, built.headers, seconds=TIMEOUT_SECONDS)
                status, body = answer.status, answer.body
            except CallbackUrlRefused as refused:
                error = f"url refused: {refused.params.get('reason')}"
            except Exception as failed:  # network error, timeout: retried
                error = f"{type(failed).__name__}: {failed}"[:ERROR_LIMIT] or "error"
        now = self._clock.now()
        accepted = isinstance(built, Request) and built.accepted(status, body)
        attempt = decide_attempt(
            accepted=accepted,
            reachable=not isinstance(built, Gone),
            attempts=envelope.attempts,
            created_at=envelope.created_at,
            now=now,
        )
        reason = error or f"HTTP {status}"
        try:
            await self._write(envelope, url, event, status, reason, now, attempt)
        except LeaseLost:
            return "lease_lost"
        return attempt.outcome

    async def _build(self, envelope: Envelope) -> Request | Gone:
        builder = self._builders.get(envelope.kind)
        if builder is None:  # claimed only by kind: cannot happen, but never loop on it
            return Gone(event=envelope.kind, reason=f"no builder for {envelope.kind}")
        return await builder.request(envelope)

    async def _write(
        self,
        envelope: Envelope,
        url: str,
        event: str,
        status: int | None,
        reason: str,
        now: datetime,
        attempt: Attempt,
    ) -> None:
        delivered = attempt.outcome is Outcome.DELIVERED
        async with self._db.transaction() as session:
            session.add(
                CallbackDelivery(
                    outbox_id=envelope.id,
                    user_id=envelope.user_id,
                    order_id=int(envelope.payload.get("order_id", 0)),
                    event=event[:MAX_EVENT],
                    url=url[:MAX_URL],
                    attempted_at=now,
                    status_code=status,
                    error=None if delivered else reason[:ERROR_LIMIT],
                    next_retry_at=attempt.next_at,
                    outcome=attempt.outcome.value,
                )
            )
            await session.flush()
            if delivered:
                await finish(session, envelope, RowOutcome.SENT, now)
            elif attempt.next_at is None:
                await finish(session, envelope, RowOutcome.UNDELIVERABLE, now, error=reason)
            else:
                await reschedule(session, envelope, attempt.next_at, reason)
