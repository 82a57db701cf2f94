"""User workflows: create and update, one service per write.

A username is unique by the database's constraint; a taken one is refused as a form error on
``username`` whether the check before the insert or the insert itself finds it, so two
concurrent creations of one name give one user and one 105, never a 500.
"""

from __future__ import annotations

from typing import TypedDict

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from core.errors import InvalidFieldsError
from core.transactions import write_transaction

User = get_user_model()

USERNAME_TAKEN = "A user with the requested username already exists."


class UserValues(TypedDict, total=False):
    """The fields a user may change about themself."""

    email: str
    first_name: str
    last_name: str


def _taken() -> InvalidFieldsError:
    return InvalidFieldsError({"username": [USERNAME_TAKEN]})


@write_transaction
def user_create(
    *,
    username: str,
    password: str,
    email: str,
    first_name: str = "",
    last_name: str = "",
) -> AbstractBaseUser:
    """Create an active user with a hashed password; return it as stored."""
    if User.objects.filter(username=username).exists():
        raise _taken()
    try:
        with transaction.atomic():
            return User.objects.create_user(
                username=username,
                password=password,
                email=email,
                first_name=first_name,
                last_name=last_name,
            )
    except IntegrityError:
        raise _taken() from None


@write_transaction
def user_update(*, user: AbstractBaseUser, values: UserValues) -> AbstractBaseUser:
    """Set the named fields on the locked user row; return it as stored."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    for name, value in values.items():
        setattr(locked, name, value)
    if values:
        locked.save(update_fields=list(values))
    return locked
