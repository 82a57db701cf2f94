"""Review group workflows: create, update, delete, and membership, one service per write.

Groups stand outside the review request lock order (nothing here locks a review request): an
update locks the group row and applies its changes to what it read under the lock, so two
admins editing one group never lose each other's fields; a name another group holds is
``GroupNameTakenError`` (error 223), decided by the database's unique constraint, not by a
read that could race.
"""

from __future__ import annotations

from typing import Any, TypedDict

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from core.extra_data import apply_extra_data_changes
from core.transactions import write_transaction
from reviews.errors import GroupNameTakenError
from reviews.models import Group


class GroupValues(TypedDict, total=False):
    """The stored fields a create or update may set."""

    name: str
    display_name: str
    mailing_list: str
    visible: bool
    invite_only: bool


def _save(group: Group, **kwargs: Any) -> Group:
    if Group.objects.filter(name=group.name).exclude(pk=group.pk).exists():
        raise GroupNameTakenError(group.name)
    try:
        # A savepoint, so a lost race on the name leaves the outer transaction usable.
        with transaction.atomic():
            group.save(**kwargs)
    except IntegrityError:
        raise GroupNameTakenError(group.name) from None
    return group


@write_transaction
def group_create(*, values: GroupValues, extra_data_fields: dict[str, Any] | None = None) -> Group:
    """Create a review group and return it as stored."""
    group = Group(**values)
    group.extra_data = apply_extra_data_changes({}, extra_data_fields or {})
    return _save(group)


@write_transaction
def group_update(
    *, group: Group, values: GroupValues, extra_data_fields: dict[str, Any] | None = None
) -> Group:
    """Change the named fields of the locked group row; return it as stored."""
    locked = Group.objects.select_for_update().get(pk=group.pk)
    for name, value in values.items():
        setattr(locked, name, value)
    fields = list(values)
    if extra_data_fields:
        locked.extra_data = apply_extra_data_changes(locked.extra_data, extra_data_fields)
        fields.append("extra_data")
    if not fields:
        return locked
    return _save(locked, update_fields=fields)


@write_transaction
def group_delete(*, group: Group) -> None:
    Group.objects.filter(pk=group.pk).delete()


@write_transaction
def group_member_add(*, group: Group, user: AbstractBaseUser) -> AbstractBaseUser:
    """Add ``user`` to the group (adding a member twice changes nothing); return the user."""
    group.users.add(user)
    return user


@write_transaction
def group_member_remove(*, group: Group, user: AbstractBaseUser) -> None:
    group.users.remove(user)
