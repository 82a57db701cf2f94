"""Rate limits kept in the shared cache, so every server process counts the same requests.

Fixed windows: the counter of ``(scope, who, window)`` is created with ``cache.add`` and
bumped with ``cache.incr``, both atomic on Redis, so two workers never lose a hit. The file
cache (``bin/serve``'s default, shared by the workers of one machine) is not atomic, so there
the two steps run under an exclusive ``flock``. If the cache is unreachable the request is let
through (and logged): an outage of the cache must not take the API down. Limits are
written as Review Board's rates, ``"<count>/<s|m|h|d>"`` (e.g. ``1000/h``); an empty rate
switches the limit off.

Three scopes (spec: mechanics.md §9): ``anonymous`` and ``authenticated`` API calls, keyed by
client address and user, and ``login`` failures, keyed by client address *and* the account
tried. Review Board keys failed logins by address alone, so one CI host behind a proxy (or a
NAT) got locked out by anybody's typos; here a password guesser is still stopped after five
tries at one account, while other accounts' failures from the same address leave it alone.
Failed tokens (API or OAuth2) share one bucket per address, ``(address, "token")``, rather than
one per token prefix: a guesser chooses the prefix and could rotate it to dodge the limit.
A token that *is* valid is never refused because that bucket is full (see
``rbapi.authentication``): guessing a 255-character token is hopeless anyway, and the limit
must not let strangers lock a CI job out.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.filebased import FileBasedCache
from django.http import HttpRequest

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str | None) -> Rate | None:
        """``"1000/h"`` -> Rate(1000, 3600); ``""``/None -> no limit."""
        if not text:
            return None
        count, _, period = text.partition("/")
        period = period.strip().lower()
        multiplier = 1
        if period[:-1].isdigit():
            multiplier, period = int(period[:-1]), period[-1:]
        if not count.strip().isdigit() or period[:1] not in PERIODS:
            raise ValueError(f"invalid rate {text!r}: use <count>/<s|m|h|d>")
        return cls(int(count), PERIODS[period[:1]] * multiplier)


@dataclass(frozen=True)
class Usage:
    limit: int
    count: int
    retry_after: int

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit

    @property
    def remaining(self) -> int:
        return max(self.limit - self.count, 0)


def client_address(request: HttpRequest) -> str:
    """The caller's address; behind a trusted proxy, the first ``X-Forwarded-For`` entry."""
    if getattr(settings, "RBAPI_BEHIND_PROXY_ADDRESS", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _key(scope: str, who: str, rate: Rate, now: float) -> tuple[str, int]:
    window = int(now // rate.seconds)
    retry_after = int((window + 1) * rate.seconds - now) + 1
    return f"rbapi:rl:{scope}:{rate.seconds}:{who}:{window}", retry_after


@contextlib.contextmanager
def _counter_lock() -> Iterator[None]:
    """Serialise counter updates across processes where the cache cannot (file cache)."""
    backend = caches["default"]
    if not isinstance(backend, FileBasedCache):
        yield
        return
    os.makedirs(backend._dir, exist_ok=True)
    with open(os.path.join(backend._dir, ".rbapi-ratelimit.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def hit(scope: str, who: str, rate: Rate) -> Usage:
    """Count one event and say where the counter stands."""
    key, retry_after = _key(scope, who, rate, time.time())
    try:
        with _counter_lock():
            if cache.add(key, 1, timeout=rate.seconds + 1):
                count = 1
            else:
                try:
                    count = cache.incr(key)
                except ValueError:  # the window expired between add and incr
                    cache.add(key, 1, timeout=rate.seconds + 1)
                    count = 1
    except Exception:  # the cache is down: count nothing rather than fail the request
        logger.warning("rate-limit cache unavailable; %s not counted", scope, exc_info=True)
        count = 0
    return Usage(rate.count, count, retry_after)


def peek(scope: str, who: str, rate: Rate) -> Usage:
    """Where the counter stands, without counting."""
    key, retry_after = _key(scope, who, rate, time.time())
    try:
        count = int(cache.get(key) or 0)
    except Exception:
        logger.warning("rate-limit cache unavailable; %s not checked", scope, exc_info=True)
        count = 0
    return Usage(rate.count, count, retry_after)


TOKEN_ACCOUNT = "token"  # the account name failed token logins are counted under


def login_rate() -> Rate | None:
    return Rate.parse(settings.RBAPI_LOGIN_RATE_LIMIT)


def _login_key(request: HttpRequest, account: str) -> str:
    """``address|digest`` of the account tried: usernames are case-folded (an e-mail login
    matches case-insensitively) and hashed, so no odd character or length reaches a cache key;
    tokens count under ``address||token``, which no digest can be."""
    if account == TOKEN_ACCOUNT:
        name = "|token"
    else:
        name = hashlib.sha256(account.casefold().encode("utf-8", "replace")).hexdigest()[:32]
    return f"{client_address(request)}|{name}"


def login_attempts_exceeded(request: HttpRequest, account: str = "") -> bool:
    """Whether ``account`` (a username, or ``TOKEN_ACCOUNT``) had too many failed logins from
    this client address in the current window."""
    rate = login_rate()
    if rate is None:
        return False
    return peek("login", _login_key(request, account), rate).count >= rate.count


def record_login_failure(request: HttpRequest, account: str = "") -> None:
    """Count one failed login at ``account`` from this client address."""
    rate = login_rate()
    if rate is not None:
        hit("login", _login_key(request, account), rate)
