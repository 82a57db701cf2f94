"""API token policies: which methods a token may use on which resources and objects.

A policy is Review Board's JSON document (spec: mechanics.md §9)::

    {"resources": {
        "*": {"allow": ["GET"], "block": ["*"]},
        "review_request": {"42": {"allow": ["*"]}, "*": {"block": ["DELETE"]}}}}

For a request on a resource with policy ID ``P`` and (for item URLs) object ID ``I``, the
leaves ``resources[P][I]``, ``resources[P]["*"]`` and ``resources["*"]`` are asked in that
order; the first that has an opinion decides. Within a leaf: the method in ``block`` denies,
the method in ``allow`` allows, then ``*`` in ``block`` denies and ``*`` in ``allow`` allows.
No opinion anywhere allows. An empty or null policy allows everything.

Validation runs when a token is created or edited, so a malformed policy is a 105 naming the
``policy`` field and never reaches evaluation. Method names are not checked (Review Board
accepts any string; an unknown one simply never matches).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.jsontext import loads_strict

LEAF_KEYS = frozenset({"allow", "block"})


class PolicyError(ValueError):
    """A policy document Review Board would refuse; the message says where."""


def parse_policy(raw: str | None, valid_policy_ids: Iterable[str]) -> dict[str, Any]:
    """The policy in ``raw`` (a JSON string), validated. ``{}`` means full access."""
    try:
        policy = loads_strict(raw or "")
    except ValueError as exc:
        raise PolicyError(f"The policy is not valid JSON: {exc}") from None
    validate_policy(policy, valid_policy_ids)
    return policy


def validate_policy(policy: Any, valid_policy_ids: Iterable[str]) -> None:
    """Refuse anything the evaluator could misread: the shape, the section names (``*`` or a
    known policy ID), object-ID sections and leaves of method lists. The messages are Review
    Board's."""
    if not isinstance(policy, dict):
        raise PolicyError("The policy must be a JSON object.")
    if policy == {}:
        return
    if "resources" not in policy:
        raise PolicyError('The policy is missing a "resources" section.')
    resources = policy["resources"]
    if not isinstance(resources, dict):
        raise PolicyError('The policy\'s "resources" section must be a JSON object.')
    if not resources:
        raise PolicyError('The policy\'s "resources" section must not be empty.')
    known = set(valid_policy_ids)
    for section, rules in resources.items():
        if section == "*":
            _validate_leaf(rules, "resources.*")
            continue
        if section not in known:
            raise PolicyError(f'"{section}" is not a valid resource policy ID.')
        if not isinstance(rules, dict) or not rules:
            raise PolicyError(f'The "resources.{section}" section must be a JSON object.')
        for object_id, leaf in rules.items():
            _validate_leaf(leaf, f"resources.{section}.{object_id}")


def _validate_leaf(leaf: Any, path: str) -> None:
    if not isinstance(leaf, dict):
        raise PolicyError(f'The "{path}" section must be a JSON object.')
    if not LEAF_KEYS & set(leaf):
        raise PolicyError(f'The "{path}" section must have "allow" and/or "block" rules.')
    for key in sorted(LEAF_KEYS & set(leaf)):
        methods = leaf[key]
        if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods):
            raise PolicyError(f'The "{path}" section\'s "{key}" rule must be a list.')


def _leaf_decision(leaf: Any, method: str) -> bool | None:
    """True (allowed), False (denied) or None (no opinion) for ``method`` in one leaf."""
    if not isinstance(leaf, dict):
        return None
    allow = leaf.get("allow") or []
    block = leaf.get("block") or []
    if method in block:
        return False
    if method in allow:
        return True
    if "*" in block:
        return False
    if "*" in allow:
        return True
    return None


def _leaves(policy: Any, policy_id: str, object_id: str | None) -> list[Any]:
    resources = policy.get("resources") if isinstance(policy, dict) else None
    if not isinstance(resources, dict):
        return []
    section = resources.get(policy_id)
    leaves: list[Any] = []
    if isinstance(section, dict):
        if object_id is not None and object_id in section:
            leaves.append(section[object_id])
        if "*" in section:
            leaves.append(section["*"])
    if "*" in resources:
        leaves.append(resources["*"])
    return leaves


def is_allowed(policy: Any, policy_id: str, method: str, object_id: Any = None) -> bool:
    """Whether a token with ``policy`` may call ``method`` on the resource (and object)."""
    if not policy:
        return True
    key = None if object_id is None else str(object_id)
    for leaf in _leaves(policy, policy_id, key):
        decision = _leaf_decision(leaf, method)
        if decision is not None:
            return decision
    return True


def blocked_object_ids(policy: Any, policy_id: str, method: str = "GET") -> list[str]:
    """The object IDs the policy names under ``policy_id`` and denies ``method`` on: the items
    a list leaves out for this token."""
    if not policy:
        return []
    resources = policy.get("resources") if isinstance(policy, dict) else None
    section = resources.get(policy_id) if isinstance(resources, dict) else None
    if not isinstance(section, dict):
        return []
    return [
        object_id
        for object_id in section
        if object_id != "*" and not is_allowed(policy, policy_id, method, object_id)
    ]
