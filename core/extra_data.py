"""``extra_data``: what clients may see of it and how they may change it.

Output hides every key whose path has a segment starting with ``__``. Input comes in three
forms, applied in this order (spec: mechanics.md §8):

1. ``extra_data:json`` — an RFC 7396 JSON Merge Patch; private keys are skipped silently;
2. ``extra_data:json-patch`` — an RFC 6902 JSON Patch (via ``jsonpatch``); touching a private
   path is an error;
3. ``extra_data.KEY=value`` — one top-level key, typed (true/false, int, float, else string);
   an empty value deletes the key; a private key is skipped silently.

Every failure is error 105 with the message under ``fields.extra_data``; nothing is stored.

Private keys are never created, changed or removed through any form (issue 10): a key is private
when it starts with ``__``, at any depth, in objects nested in objects or in lists (mechanics.md
§8). Besides the per-form rules above, each form's result is compared with its input: the
private entries (path -> value) must be exactly the same, or the request is refused. That
catches what the forms' own key checks cannot see: a value carrying private keys
(``{"op": "add", "path": "/n", "value": {"__x": 1}}``, a list in a merge patch), a root
``replace`` or a deleted or replaced parent that would drop private keys, a ``move``/``copy``
that carries them elsewhere. A JSON Patch ``test`` compares against the public view, so it
cannot probe private values either.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping
from typing import Any

import jsonpatch
import jsonpointer

from core.errors import InvalidFieldsError
from core.jsontext import loads_strict

JSON_FIELD = "extra_data:json"
JSON_PATCH_FIELD = "extra_data:json-patch"
KEY_PREFIX = "extra_data."


def is_private_key(key: str) -> bool:
    return str(key).startswith("__")


def public_extra_data(data: Any) -> Any:
    """A copy of ``data`` without private keys, at any depth."""
    if isinstance(data, dict):
        return {
            key: public_extra_data(value) for key, value in data.items() if not is_private_key(key)
        }
    if isinstance(data, list):
        return [public_extra_data(item) for item in data]
    return data


def has_extra_data_changes(data: Mapping[str, Any]) -> bool:
    return any(key in (JSON_FIELD, JSON_PATCH_FIELD) or key.startswith(KEY_PREFIX) for key in data)


def _error(msg: str) -> Exception:
    return InvalidFieldsError({"extra_data": [msg]})


def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396, skipping private keys."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if is_private_key(key):
            continue
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge_patch(result.get(key), value)
    return result


def _typed_value(value: str) -> Any:
    if value in ("true", "True", "TRUE"):
        return True
    if value in ("false", "False", "FALSE"):
        return False
    try:
        return int(value)
    except ValueError:
        pass
    try:
        number = float(value)
    except ValueError:
        return value
    # "nan" and "inf" stay strings: JSON (and so the database) has no such numbers.
    return number if math.isfinite(number) else value


def private_entries(data: Any, path: tuple = ()) -> dict[tuple, Any]:
    """Every private key of ``data`` at any depth, by its path (a private key's own contents
    are part of its value)."""
    found: dict[tuple, Any] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            if is_private_key(key):
                found[(*path, key)] = value
            else:
                found.update(private_entries(value, (*path, key)))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found.update(private_entries(item, (*path, index)))
    return found


def _canonical(value: Any) -> str:
    # Exact comparison: ``1 == True`` in Python, but not in JSON.
    return json.dumps(value, sort_keys=True)


def changed_private_path(before: Any, after: Any) -> str | None:
    """The JSON pointer of the first private key that ``after`` adds, removes or changes
    relative to ``before``, or None when they hold the same private entries."""
    old, new = private_entries(before), private_entries(after)
    for path in sorted(old.keys() | new.keys(), key=lambda parts: [str(p) for p in parts]):
        if path not in old or path not in new or _canonical(old[path]) != _canonical(new[path]):
            return jsonpointer.JsonPointer.from_parts([str(part) for part in path]).path
    return None


def _path_is_private(path: str) -> bool:
    try:
        parts = jsonpointer.JsonPointer(path).parts
    except jsonpointer.JsonPointerException:
        return False
    return any(is_private_key(part) for part in parts)


def _apply_json_patch(current: dict, raw: str) -> dict:
    try:
        operations = loads_strict(raw)
    except ValueError as exc:
        raise _error(f"Could not parse JSON data: {exc}") from None
    if not isinstance(operations, list):
        raise _error(
            "Failed to patch JSON data: The patch must be a list of operations to perform"
        )
    result: Any = copy.deepcopy(current)
    for index, operation in enumerate(operations):
        if not isinstance(operation, dict) or "op" not in operation:
            raise _error(f'Failed to patch JSON data: Missing key "op" for patch entry {index}')
        if "path" not in operation:
            raise _error(f'Failed to patch JSON data: Missing key "path" for patch entry {index}')
        path = str(operation["path"])
        if _path_is_private(path):
            raise _error(
                f'Failed to patch JSON data: Cannot write to path "{path}" for patch entry {index}'
            )
        source = operation.get("from")
        if source is not None and _path_is_private(str(source)):
            raise _error(
                f'Failed to patch JSON data: Cannot read from path "{source}" for patch entry '
                f"{index}"
            )
        try:
            if operation["op"] == "test":
                # Against the public view: a test must not reveal private values.
                jsonpatch.JsonPatch([operation]).apply(public_extra_data(result))
                continue
            before = result
            result = jsonpatch.JsonPatch([operation]).apply(result)
        except jsonpatch.JsonPatchTestFailed:
            raise _error(
                f'Failed to patch JSON data: Test failed for path "{path}" for patch entry {index}'
            ) from None
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
            raise _error(
                f'Failed to patch JSON data: Invalid path "{path}" for patch entry {index}: {exc}'
            ) from None
        if not isinstance(result, dict):
            raise _error(
                "Failed to patch JSON data: extra_data cannot be replaced with a "
                "non-dictionary type"
            )
        private = changed_private_path(before, result)
        if private is not None:
            raise _error(
                f'Failed to patch JSON data: Cannot write to path "{private}" for patch entry '
                f"{index}"
            )
    return result


def apply_extra_data_changes(current: dict | None, data: Mapping[str, Any]) -> dict:
    """Return the new extra_data for the request fields in ``data``; raise 105 on bad input.

    ``current`` is never modified, so a failure leaves the stored value untouched.
    """
    result: dict = copy.deepcopy(current or {})
    if JSON_FIELD in data:
        try:
            patch = loads_strict(data[JSON_FIELD])
        except ValueError as exc:
            raise _error(f"Could not parse JSON data: {exc}") from None
        merged = _merge_patch(result, patch)
        if not isinstance(merged, dict):
            raise _error("extra_data:json cannot replace extra_data with a non-dictionary type")
        private = changed_private_path(result, merged)
        if private is not None:
            # Private keys named in the patch were skipped; this one came in a value (a list)
            # or would go with a deleted or replaced parent.
            raise _error(f'Failed to patch JSON data: Cannot write to path "{private}"')
        result = merged
    if JSON_PATCH_FIELD in data:
        result = _apply_json_patch(result, data[JSON_PATCH_FIELD])
    before = copy.deepcopy(result)
    for field, value in data.items():
        if not field.startswith(KEY_PREFIX):
            continue
        key = field[len(KEY_PREFIX) :]
        if not key or is_private_key(key):
            continue
        if value == "":
            result.pop(key, None)
        else:
            result[key] = _typed_value(value)
    private = changed_private_path(before, result)
    if private is not None:
        # Deleting or overwriting a key would take the private keys under it along.
        raise _error(f'Cannot write to path "{private}"')
    return result
