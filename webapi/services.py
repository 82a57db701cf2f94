"""API token workflows: create, update (including invalidation) and delete, one service per
write, each in one transaction; an update decides on the token row it has locked."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from core.extra_data import apply_extra_data_changes
from core.transactions import write_transaction
from webapi.models import WebAPIToken
from webapi.token_generator import VENDOR_CHECKSUM, generate_token

UNSET: Any = object()


@write_transaction
def api_token_create(
    *,
    user: Any,
    note: str,
    policy: dict[str, Any],
    expires: datetime.datetime | None = None,
    extra_data: dict[str, Any] | None = None,
    extra_data_fields: dict[str, Any] | None = None,
) -> WebAPIToken:
    """Mint a token for ``user``; ``extra_data_fields`` (the request's extra_data forms) are
    applied to ``extra_data``."""
    now = timezone.now()
    return WebAPIToken.objects.create(
        user=user,
        token=generate_token(),
        token_generator_id=VENDOR_CHECKSUM,
        note=note,
        policy=policy,
        expires=expires,
        extra_data=apply_extra_data_changes(extra_data or {}, extra_data_fields or {}),
        time_added=now,
        last_updated=now,
    )


@write_transaction
def api_token_update(
    *,
    token: WebAPIToken,
    note: str = UNSET,
    policy: dict[str, Any] = UNSET,
    expires: datetime.datetime | None = UNSET,
    extra_data_fields: dict[str, Any] | None = None,
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
    if extra_data_fields:
        locked.extra_data = apply_extra_data_changes(locked.extra_data, extra_data_fields)
    if invalid_reason is not None and locked.valid:
        locked.valid = False
        locked.invalid_date = timezone.now()
        locked.invalid_reason = invalid_reason
    locked.last_updated = timezone.now()
    locked.save()
    return locked


@write_transaction
def api_token_delete(*, token: WebAPIToken) -> None:
    WebAPIToken.objects.filter(pk=token.pk).delete()
