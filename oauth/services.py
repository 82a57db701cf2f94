"""OAuth2 application and token workflows, one service per write, each in one transaction;
updates decide on the row they have locked.

The client secret is stored hashed (django-oauth-toolkit's default), so a service that makes
one hands the plain value back once, on the returned object (``PLAIN_SECRET``).
"""

from __future__ import annotations

from typing import Any, TypedDict

from django.contrib.auth.models import AbstractBaseUser
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_access_token_model

from core.extra_data import apply_extra_data_changes
from core.transactions import write_transaction
from oauth.models import Application

AccessToken = get_access_token_model()

#: The attribute carrying a newly made secret in plain text, for the one response that shows it.
PLAIN_SECRET = "_rbapi_plain_client_secret"


class ApplicationValues(TypedDict, total=False):
    authorization_grant_type: str
    client_type: str
    name: str
    enabled: bool
    skip_authorization: bool
    redirect_uris: str


@write_transaction
def oauth_app_create(
    *,
    user: AbstractBaseUser,
    values: ApplicationValues,
    extra_data_fields: dict[str, Any] | None = None,
) -> Application:
    """Register an application owned by ``user``, with a new client secret."""
    secret = generate_client_secret()
    app = Application(
        user=user,
        client_secret=secret,
        extra_data=apply_extra_data_changes({}, extra_data_fields or {}),
        **values,
    )
    app.save()
    setattr(app, PLAIN_SECRET, secret)
    return app


@write_transaction
def oauth_app_update(
    *,
    app: Application,
    values: ApplicationValues,
    owner: AbstractBaseUser | None = None,
    extra_data_fields: dict[str, Any] | None = None,
    regenerate_client_secret: bool = False,
) -> Application:
    """Change the locked application; a regenerated secret is shown once."""
    locked = Application.objects.select_for_update().get(pk=app.pk)
    for name, value in values.items():
        setattr(locked, name, value)
    if owner is not None:
        locked.user = owner
    secret = generate_client_secret() if regenerate_client_secret else None
    if secret is not None:
        locked.client_secret = secret
    if extra_data_fields:
        locked.extra_data = apply_extra_data_changes(locked.extra_data, extra_data_fields)
    locked.save()
    if secret is not None:
        setattr(locked, PLAIN_SECRET, secret)
    return locked


@write_transaction
def oauth_app_delete(*, app: Application) -> None:
    app.delete()


@write_transaction
def oauth_token_update(
    *,
    token: Any,
    scopes: list[str] | None = None,
    add_scopes: list[str] = (),
    remove_scopes: list[str] = (),
) -> Any:
    """Replace (``scopes``) or edit (add, then remove) the locked token's scopes."""
    # Lock only the token row (PostgreSQL cannot lock the nullable side of the join).
    locked = (
        AccessToken.objects.select_for_update(of=("self",))
        .select_related("application")
        .get(pk=token.pk)
    )
    current = locked.scope.split()
    wanted = scopes if scopes is not None else current
    removed = set(remove_scopes)
    wanted = [scope for scope in dict.fromkeys([*wanted, *add_scopes]) if scope not in removed]
    if wanted != current:
        locked.scope = " ".join(wanted)
        locked.save(update_fields=["scope", "updated"])
    return locked


@write_transaction
def oauth_token_delete(*, token: Any) -> None:
    token.delete()
