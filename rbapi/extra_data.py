"""``extra_data``: what clients may see of it and how they may change it.

Output hides every key whose path has a segment starting with ``__``. Input comes in three
forms, applied in this order (spec: mechanics.md §8):

1. ``extra_data:json`` — an RFC 7396 JSON Merge Patch; private keys are skipped silently;
2. ``extra_data:json-patch`` — an RFC 6902 JSON Patch (via ``jsonpatch``); touching a private
   path is an error;
3. ``extra_data.KEY=value`` — one top-level key, typed (true/false, int, float, else string);
   an empty value deletes the key; a private key is skipped silently.

Every failure is error 105 with the message under ``fields.extra_data``; nothing is stored.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

import jsonpatch
import jsonpointer

from rbapi.errors import form_error
from rbapi.parsers import loads_strict

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
    return form_error({"extra_data": [msg]})


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
        result = merged
    if JSON_PATCH_FIELD in data:
        result = _apply_json_patch(result, data[JSON_PATCH_FIELD])
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
    return result
