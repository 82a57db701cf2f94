"""OAuth2 scopes: ``<policy_id>:read|write|destroy``, one per resource and kind of method
(spec: mechanics.md §9). GET/HEAD/OPTIONS need ``read``, POST/PUT/PATCH ``write``, DELETE
``destroy``. The list of scopes is generated from the resource registry, so every resource
has its scopes and django-oauth-toolkit only grants scopes that exist."""

from __future__ import annotations

import functools
from typing import Any

METHOD_SCOPES = {
    "GET": "read",
    "HEAD": "read",
    "OPTIONS": "read",
    "POST": "write",
    "PUT": "write",
    "PATCH": "write",
    "DELETE": "destroy",
}
DEFAULT_SCOPES = ("root:read",)


def required_scope(policy_id: str, method: str) -> str:
    return f"{policy_id}:{METHOD_SCOPES.get(method, 'write')}"


@functools.cache
def all_scopes() -> dict[str, str]:
    """Every scope a client may ask for, with a description (django-oauth-toolkit's
    ``SCOPES``)."""
    from rbapi import api  # noqa: F401  (registers every resource)
    from rbapi.registry import all_resources

    scopes: dict[str, str] = {}
    for resource in all_resources():
        verbs = {METHOD_SCOPES[m] for m in (*resource.list_methods, *resource.item_methods)}
        for verb in ("read", "write", "destroy"):
            if verb in verbs:
                scopes[f"{resource.policy_id}:{verb}"] = (
                    f"{verb.capitalize()} access to the {resource.policy_id} resource"
                )
    return dict(sorted(scopes.items()))


class RegistryScopes:
    """django-oauth-toolkit ``SCOPES_BACKEND_CLASS`` built from the resource registry."""

    def get_all_scopes(self) -> dict[str, str]:
        return all_scopes()

    def get_available_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        return list(all_scopes())

    def get_default_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        return list(DEFAULT_SCOPES)
