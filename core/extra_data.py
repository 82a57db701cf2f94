"""``extra_data``: what clients may see of it and how they may change it.

Output hides every key whose path has a segment starting with ``__``. Input comes in three
forms, applied in this order (spec: mechanics.md §8):

1. ``extra_data:json`` — an RFC 7396 JSON Merge Patch; private keys are skipped silently;
2. ``extra_data:json-patch`` — an RFC 6902 JSON Patch: each entry is checked with Review
   Board 8.1's messages and precedence (``_EntryChecker``), then applied with ``jsonpatch``;
   writing the root or a private path, or reading a private path, is an error;
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


class _PatchEntryError(Exception):
    """A failed patch entry; ``message`` is the text after "Failed to patch JSON data: "."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _PointerError(Exception):
    """A path that cannot be resolved; ``syntax`` tells a malformed list index or pointer
    (Review Board's "Syntax error in path") from a well-formed one that names nothing
    ("Invalid path")."""

    def __init__(self, detail: str, *, syntax: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.syntax = syntax


class _EndOfList:
    """What ``-`` names in a list: the position after its last item, which only ``add``
    (and the target of ``copy``/``move``) may use."""


_END = _EndOfList()


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _pointer_text(parts: list[str]) -> str:
    """A pointer as the messages name a container: the root is ``/``."""
    return "/" + "/".join(_escape(part) for part in parts)


def _type_name(value: Any) -> str:
    return "JSONPointerEndOfList" if value is _END else type(value).__name__


def _parse_pointer(path: Any) -> list[str]:
    """RFC 6901 tokens of ``path`` (``~1`` then ``~0`` unescaped; any other ``~`` is kept)."""
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise _PointerError('Paths must either be empty or start with a "/"', syntax=True)
    if not path:
        return []
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _list_index(token: str, where: list[str]) -> int | _EndOfList:
    """A list token: ``-`` (the end), or a non-negative integer without a leading zero."""
    if token == "-":
        return _END
    if token.startswith("0") and len(token) > 1:
        raise _PointerError(f'List index "{token}" must not begin with "0"', syntax=True)
    try:
        index = int(token)
    except ValueError:
        raise _PointerError(
            f'{token!r} is not a valid list index in "{_pointer_text(where)}"', syntax=True
        ) from None
    if index < 0:
        raise _PointerError("Negative indexes into lists are not allowed", syntax=True)
    return index


def _resolve(document: Any, parts: list[str]) -> tuple[Any, list[str]]:
    """The value ``parts`` names in ``document`` and the canonical tokens that name it
    (list indexes written as plain integers, for ``jsonpatch``)."""
    node = document
    canonical: list[str] = []
    for depth, token in enumerate(parts):
        where = parts[:depth]
        if isinstance(node, dict):
            if token not in node:
                raise _PointerError(
                    f'Dictionary key "{token}" not found in "{_pointer_text(where)}"'
                )
            node = node[token]
            canonical.append(token)
        elif isinstance(node, list):
            index = _list_index(token, where)
            if index is _END:
                node = _END
                canonical.append("-")
            elif index >= len(node):
                raise _PointerError(f'{index} is outside the list in "{_pointer_text(where)}"')
            else:
                node = node[index]
                canonical.append(str(index))
        else:
            raise _PointerError(
                f'Cannot resolve path within unsupported type "{_type_name(node)}" at '
                f'"{_pointer_text(where)}"'
            )
    return node, canonical


def _sorted_repr(value: Any) -> str:
    """``repr`` with dict keys sorted at every level, as Review Board shows stored values
    (it stores extra_data with sorted keys), whatever order the database hands back."""

    def ordered(item: Any) -> Any:
        if isinstance(item, dict):
            return {key: ordered(item[key]) for key in sorted(item)}
        if isinstance(item, list):
            return [ordered(element) for element in item]
        return item

    return repr(ordered(value))


def _canonical_pointer(parts: list[str]) -> str:
    return "".join("/" + _escape(part) for part in parts)


class _EntryChecker:
    """Validates one patch entry against the document as it stands, with Review Board's
    wording and precedence, and turns it into a canonical operation for ``jsonpatch``."""

    WITH_VALUE = ("add", "replace", "test")
    WITH_FROM = ("copy", "move")

    def __init__(self, entry: Any, index: int) -> None:
        self.entry = entry
        self.index = index

    def fail(self, message: str) -> _PatchEntryError:
        return _PatchEntryError(f"{message} for patch entry {self.index}")

    def parse(self, key: str) -> list[str]:
        label = "path" if key == "path" else "from path"
        try:
            return _parse_pointer(self.entry[key])
        except _PointerError as exc:
            raise _PatchEntryError(
                f'Syntax error in {label} "{self.entry[key]}"{self._suffix(exc)}'
            ) from None

    def _suffix(self, exc: _PointerError) -> str:
        return f" for patch entry {self.index}: {exc.detail}"

    def resolve(self, document: Any, parts: list[str], key: str) -> tuple[Any, list[str]]:
        label = "path" if key == "path" else "from path"
        try:
            return _resolve(document, parts)
        except _PointerError as exc:
            kind = "Syntax error in" if exc.syntax else "Invalid"
            raise _PatchEntryError(
                f'{kind} {label} "{self.entry[key]}"{self._suffix(exc)}'
            ) from None

    def check_write(self, key: str, parts: list[str]) -> None:
        """The root and every path through a private key are not the client's to change."""
        if not parts or any(is_private_key(part) for part in parts):
            raise self.fail(f'Cannot write to path "{self.entry[key]}"')

    def check_read(self, key: str, parts: list[str]) -> None:
        if any(is_private_key(part) for part in parts):
            raise self.fail(f'Cannot read from path "{self.entry[key]}"')

    def insertion(self, document: Any, parts: list[str]) -> list[str]:
        """Where an ``add`` (or the target of ``copy``/``move``) goes, checked on
        ``document`` as the operation will find it."""
        path = self.entry["path"]
        parent, canonical = self.resolve(document, parts[:-1], "path")
        token = parts[-1]
        if isinstance(parent, dict):
            return [*canonical, token]
        if isinstance(parent, list):
            try:
                index = _list_index(token, parts[:-1])
            except _PointerError as exc:
                raise _PatchEntryError(
                    f'Syntax error in path "{path}"{self._suffix(exc)}'
                ) from None
            if index is _END:
                return [*canonical, "-"]
            if index > len(parent):
                raise self.fail(f'Cannot insert into index {index} in path "{path}"')
            return [*canonical, str(index)]
        raise self.fail(f'Unable to add key "{token}" to a non-dictionary/list in path "{path}"')

    def replacement(self, document: Any, parts: list[str]) -> list[str]:
        path = self.entry["path"]
        parent, canonical = self.resolve(document, parts[:-1], "path")
        token = parts[-1]
        if isinstance(parent, dict):
            if token not in parent:
                raise self.fail(f'Cannot remove non-existent key "{token}" in path "{path}"')
            return [*canonical, token]
        # Past this point Review Board answers an HTML 500; these are its "Invalid path"
        # wordings for the same conditions.
        try:
            _, canonical = _resolve(document, parts)
        except _PointerError as exc:
            kind = "Syntax error in" if exc.syntax else "Invalid"
            raise _PatchEntryError(f'{kind} path "{path}"{self._suffix(exc)}') from None
        if canonical[-1] == "-":
            raise self.fail(f'Cannot perform operation "replace" on end of list at "{path}"')
        return canonical

    def operation(self, document: Any) -> dict | None:
        """The canonical operation to apply, or None for a ``test`` that passed or an
        operation Review Board does not know (skipped once its path is checked)."""
        entry = self.entry
        if not isinstance(entry, dict):
            raise _PatchEntryError(
                f"Patch entry {self.index} must be a dictionary instead of {type(entry).__name__}"
            )
        for key in ("op", "path"):
            if key not in entry:
                raise self.fail(f'Missing key "{key}"')
        op = entry["op"]
        if op in self.WITH_VALUE and "value" not in entry:
            raise self.fail('Missing key "value"')
        if op in self.WITH_FROM and "from" not in entry:
            raise self.fail('Missing key "from"')
        parts = self.parse("path")
        path = entry["path"]
        if op == "test":
            target, _ = self.resolve(document, parts, "path")
            self.check_read("path", parts)
            if target is _END:
                raise self.fail(f'Cannot perform operation "test" on end of list at "{path}"')
            # Against the public view: a test must not reveal private values.
            actual = public_extra_data(target)
            if actual != entry["value"]:
                raise _PatchEntryError(
                    f'Test failed for path "{path}" at patch entry {self.index}. '
                    f"Expected {entry['value']!r} and got {_sorted_repr(actual)}."
                )
            return None
        if op == "remove":
            target, canonical = self.resolve(document, parts, "path")
            self.check_write("path", parts)
            if target is _END:
                raise self.fail(f'Cannot perform operation "remove" on end of list at "{path}"')
            return {"op": "remove", "path": _canonical_pointer(canonical)}
        if parts:
            self.resolve(document, parts[:-1], "path")
        self.check_write("path", parts)
        if op == "add":
            target = self.insertion(document, parts)
            return {"op": "add", "path": _canonical_pointer(target), "value": entry["value"]}
        if op == "replace":
            target = self.replacement(document, parts)
            return {"op": "replace", "path": _canonical_pointer(target), "value": entry["value"]}
        if op not in self.WITH_FROM:
            return None
        source_parts = self.parse("from")
        source, source_canonical = self.resolve(document, source_parts, "from")
        if op == "copy":
            self.check_read("from", source_parts)
        else:
            self.check_write("from", source_parts)
        if source is _END:
            raise self.fail(
                f'Cannot perform operation "{op}" from end of list at "{entry["from"]}"'
            )
        if op == "move" and path.startswith(entry["from"] + "/"):
            raise _PatchEntryError(
                f"Cannot move values into their own children at patch entry {self.index}"
            )
        after_removal = document
        if op == "move" and source_parts != parts:
            after_removal = jsonpatch.JsonPatch(
                [{"op": "remove", "path": _canonical_pointer(source_canonical)}]
            ).apply(document)
        target = self.insertion(after_removal, parts)
        return {
            "op": op,
            "from": _canonical_pointer(source_canonical),
            "path": _canonical_pointer(target),
        }


def _apply_json_patch(current: dict, raw: str) -> dict:
    """Apply an RFC 6902 patch, entry by entry. Each entry is first checked against the
    document as it stands (Review Board's messages and precedence: entry shape, missing
    keys, path syntax, the target's container, write/read access, the source, then the
    operation itself), then applied with ``jsonpatch`` in its canonical form; the private
    entries must come out unchanged."""
    try:
        operations = loads_strict(raw)
    except ValueError as exc:
        raise _error(f"Could not parse JSON data: {exc}") from None
    if not isinstance(operations, list):
        raise _error(
            "Failed to patch JSON data: The patch must be a list of operations to perform"
        )
    result: Any = copy.deepcopy(current)
    for index, entry in enumerate(operations):
        try:
            operation = _EntryChecker(entry, index).operation(result)
        except _PatchEntryError as exc:
            raise _error(f"Failed to patch JSON data: {exc.message}") from None
        if operation is None:
            continue
        before = result
        result = jsonpatch.JsonPatch([operation]).apply(result)
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
