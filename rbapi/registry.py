"""The registry of resources and the URL tree they form.

Every resource class registers itself by name when it is defined. ``build_tree()`` walks the
tree from the root resource once (through ``item_child_resources`` and
``list_child_resources``), records each resource's parent and URL templates, and yields the
URL patterns and ``uri_templates`` from that single walk, so routes, links and the root's
templates cannot disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rbapi.resources import WebAPIResource

_REGISTRY: dict[str, type[WebAPIResource]] = {}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def register(resource: type[WebAPIResource]) -> None:
    if resource.name in _REGISTRY and _REGISTRY[resource.name] is not resource:
        raise RuntimeError(f"two resources are named {resource.name!r}")
    _REGISTRY[resource.name] = resource


def get_resource_class(name: str) -> type[WebAPIResource]:
    return _REGISTRY[name]


def all_resources() -> list[type[WebAPIResource]]:
    return list(_REGISTRY.values())


def policy_ids() -> set[str]:
    """Every resource's policy ID: what token policies and OAuth2 scopes may name."""
    return {resource.policy_id for resource in _REGISTRY.values()}


_INSTANCES: dict[str, WebAPIResource] = {}


def get_resource(name: str) -> WebAPIResource:
    """A shared instance of a resource, for serialising its objects outside its own views."""
    if name not in _INSTANCES:
        _INSTANCES[name] = _REGISTRY[name]()
    return _INSTANCES[name]


@dataclass(frozen=True)
class Route:
    """One URL of the tree: a resource in list or item mode."""

    resource: type[WebAPIResource]
    mode: str  # "list" or "item"
    template: str  # "/api/groups/{group_name}/users/"

    @property
    def regex(self) -> str:
        """The Django URL regex: literal segments escaped, placeholders as named groups."""
        path = self.template[1:]
        parts: list[str] = []
        pos = 0
        for match in _PLACEHOLDER.finditer(path):
            key = match.group(1)
            parts.append(re.escape(path[pos : match.start()]))
            parts.append(f"(?P<{key}>{_KEY_REGEXES[key]})")
            pos = match.end()
        parts.append(re.escape(path[pos:]))
        return "^" + "".join(parts) + "$"


_KEY_REGEXES: dict[str, str] = {}
_ROUTES: list[Route] = []
_URI_TEMPLATES: dict[str, str] = {}


def _walk(
    resource: type[WebAPIResource],
    prefix: str,
    parent: type[WebAPIResource] | None,
    *,
    under_list: bool = False,
) -> None:
    resource.parent_resource_class = parent
    resource.attached_to_list = under_list
    base = prefix + (resource.uri_name + "/" if resource.uri_name else "")
    if resource.singleton:
        resource.item_template = base
        resource.list_template = None
        _ROUTES.append(Route(resource, "item", base))
        _claim(_names(resource.uri_template_names, resource.name), base)
        for child in resource.item_child_resources:
            _walk(get_resource_class(child), base, resource)
        return
    key = resource.uri_object_key
    _KEY_REGEXES[key] = resource.uri_object_key_regex
    item = f"{base}{{{key}}}/"
    resource.list_template = base
    resource.item_template = item
    _ROUTES.append(Route(resource, "list", base))
    _ROUTES.append(Route(resource, "item", item))
    _claim(_names(resource.uri_template_names, resource.name), item)
    _claim(_names(resource.uri_template_list_names, resource.name_plural), base)
    for child in resource.list_child_resources:
        _walk(get_resource_class(child), base, resource, under_list=True)
    for child in resource.item_child_resources:
        _walk(get_resource_class(child), item, resource)


def _names(declared: tuple[str, ...] | None, default: str) -> tuple[str, ...]:
    return (default,) if declared is None else declared


def _claim(names: tuple[str, ...], template: str) -> None:
    # As in Review Board, when two resources claim a name the first one keeps it.
    for name in names:
        _URI_TEMPLATES.setdefault(name, template)


def build_tree() -> list[Route]:
    """Walk the tree from the root once; later calls return the same routes."""
    if not _ROUTES:
        _walk(get_resource_class("root"), "/", None)
    return list(_ROUTES)


def key_regexes() -> dict[str, str]:
    """Placeholder name -> the regex of its one path segment."""
    build_tree()
    return dict(_KEY_REGEXES)


def uri_templates() -> dict[str, str]:
    """Template name -> path template with ``{placeholders}``."""
    build_tree()
    return dict(_URI_TEMPLATES)
