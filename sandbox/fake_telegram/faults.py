"""Fault injection: scripted failures, a flood limit and random 429s."""

from __future__ import annotations

import math
import random
import time
from collections import deque
from dataclasses import dataclass

from sandbox.fake_telegram.limits import DEFAULT_FAILURE_TEXTS, ApiError, too_many_requests

ANY_METHOD = "*"


@dataclass
class FailureRule:
    """Answer calls of ``method`` ("*" = any) with an error, ``times`` times or until cleared;
    with ``chat_id``, only the calls addressed to that chat (one user's outage)."""

    method: str
    error_code: int
    description: str
    retry_after: int | None
    times: int | None  # None: until cleared
    chat_id: int | None = None

    def matches(self, method: str, chat_id: object = None) -> bool:
        if self.chat_id is not None and str(chat_id) != str(self.chat_id):
            return False
        return self.method == ANY_METHOD or self.method.lower() == method.lower()

    def error(self) -> ApiError:
        return ApiError(self.error_code, self.description, retry_after=self.retry_after)


def make_rule(
    method: str,
    *,
    times: int | None,
    error_code: int,
    description: str | None,
    retry_after: int | None,
    chat_id: int | None = None,
) -> FailureRule:
    if error_code == 429 and retry_after is None:
        retry_after = 1
    if description is None:
        if error_code == 429:
            description = too_many_requests(retry_after or 1)
        else:
            description = DEFAULT_FAILURE_TEXTS.get(error_code, f"Error {error_code}")
    return FailureRule(method, error_code, description, retry_after, times, chat_id)


class FaultInjector:
    """Decides whether a call fails before the fake server executes it."""

    def __init__(self, seed: int | None = 0) -> None:
        self.rules: list[FailureRule] = []
        self.flood_limit_per_second: int | None = None
        self.random_429_rate = 0.0
        self.random_429_retry_after = 1
        self.rng = random.Random(seed)
        self._sends: deque[float] = deque()

    def add(self, rule: FailureRule) -> FailureRule:
        self.rules.append(rule)
        return rule

    def remove(self, rule: FailureRule) -> None:
        if rule in self.rules:
            self.rules.remove(rule)

    def clear(self, method: str | None = None) -> None:
        if method is None:
            self.rules.clear()
        else:
            self.rules = [rule for rule in self.rules if rule.method.lower() != method.lower()]

    def injected_failure(self, method: str, chat_id: object = None) -> ApiError | None:
        """The scripted failure for this call, if any (consumes one of its ``times``)."""
        for rule in self.rules:
            if rule.matches(method, chat_id):
                if rule.times is not None:
                    rule.times -= 1
                    if rule.times <= 0:
                        self.rules.remove(rule)
                return rule.error()
        return None

    def rate_limited(self, now: float | None = None) -> ApiError | None:
        """A 429 for a message-sending call, from random injection or the flood limit."""
        if self.random_429_rate > 0 and self.rng.random() < self.random_429_rate:
            return ApiError.flood(self.random_429_retry_after)
        limit = self.flood_limit_per_second
        if limit is None:
            return None
        now = time.monotonic() if now is None else now
        while self._sends and now - self._sends[0] >= 1.0:
            self._sends.popleft()
        if len(self._sends) >= limit:
            return ApiError.flood(max(1, math.ceil(self._sends[0] + 1.0 - now)))
        self._sends.append(now)
        return None
