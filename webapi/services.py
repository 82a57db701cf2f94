"""API token workflows: create, edit and invalidate, each in one transaction."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from webapi.models import WebAPIToken
from webapi.token_generator import VENDOR_CHECKSUM, generate_token

UNSET: Any = object()


def api_token_create(
    *,
    user: Any,
    note: str,
    policy: dict[str, Any],
    expires: datetime.datetime | None = None,
    extra_data: dict[str, Any] | None = None,
) -> WebAPIToken:
    now = timezone.now()
    return WebAPIToken.objects.create(
        user=user,
        token=generate_token(),
        token_generator_id=VENDOR_CHECKSUM,
        note=note,
        policy=policy,
        expires=expires,
        extra_data=extra_data or {},
        time_added=now,
        last_updated=now,
    )


@transaction.atomic
def api_token_update(
    token: WebAPIToken,
    *,
    note: str = UNSET,
    policy: dict[str, Any] = UNSET,
    expires: datetime.datetime | None = UNSET,
    extra_data: Any = UNSET,
    invalid_reason: str | None = None,
) -> WebAPIToken:
    """Change what was given, under a row lock. ``invalid_reason`` (a string, possibly
    empty) invalidates the token for good; an invalid token stays invalid with its first
    date and reason."""
    locked = WebAPIToken.objects.select_for_update().get(pk=token.pk)
    if note is not UNSET:
        locked.note = note
    if policy is not UNSET:
        locked.policy = policy
    if expires is not UNSET:
        locked.expires = expires
    if callable(extra_data):
        locked.extra_data = extra_data(locked.extra_data)
    if invalid_reason is not None and locked.valid:
        locked.valid = False
        locked.invalid_date = timezone.now()
        locked.invalid_reason = invalid_reason
    locked.last_updated = timezone.now()
    locked.save()
    return locked
