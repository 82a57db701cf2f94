"""Commit histories that are not in the repository yet: ``validation_info``.

A client posting a series of commits (spec: code-and-files.md §2, §4.4) validates them one by
one; each answer is ``validation_info``, base64 of JSON keyed by commit id, accumulating every
commit validated so far: ``{"<sha>": {"parent_id": "<sha>", "tree": {"added": [...],
"modified": [...], "removed": [...]}}}`` with ``{"filename", "revision"}`` entries (a rename is
the old name removed and the new one added). The client feeds it back with the next commit, so
a file that an earlier, unpushed commit created or changed is found there instead of in the
repository. Pure functions: no database, no web layer.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from typing import Any

from diffs.parser import PRE_CREATION, ParsedFile

ValidationInfo = dict[str, dict[str, Any]]


class ValidationInfoError(ValueError):
    """``validation_info`` is not base64 of a JSON object of the expected shape."""

    def __init__(self, raw: str, reason: str) -> None:
        super().__init__(f'Could not parse validation info "{raw}": {reason}')


def decode_validation_info(raw: str | None) -> ValidationInfo:
    """The dict a client sent (empty when it sent none); raises ``ValidationInfoError``."""
    if not raw:
        return {}
    try:
        decoded = json.loads(base64.b64decode(raw.encode("ascii"), validate=True))
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise ValidationInfoError(raw, str(exc)) from None
    if not isinstance(decoded, dict) or not all(
        isinstance(entry, dict)
        and isinstance(entry.get("parent_id", ""), str)
        and isinstance(entry.get("tree", {}), dict)
        for entry in decoded.values()
    ):
        raise ValidationInfoError(raw, "not a mapping of commit IDs to commit details")
    return decoded


def encode_validation_info(info: ValidationInfo) -> str:
    """Base64 of the JSON, with Python's default separators as Review Board writes it."""
    return base64.b64encode(json.dumps(info).encode("utf-8")).decode("ascii")


def _entry(filename: str, revision: str) -> dict[str, str]:
    return {"filename": filename, "revision": revision}


def commit_tree(files: Iterable[ParsedFile]) -> dict[str, list[dict[str, str]]]:
    """What one commit's diff did to the tree, in diff order."""
    tree: dict[str, list[dict[str, str]]] = {"added": [], "modified": [], "removed": []}
    for parsed in files:
        if parsed.status == "deleted":
            tree["removed"].append(_entry(parsed.source_file, parsed.source_revision))
        elif parsed.source_revision == PRE_CREATION or parsed.status == "copied":
            tree["added"].append(_entry(parsed.dest_file, parsed.dest_detail))
        elif parsed.status == "moved":
            tree["removed"].append(_entry(parsed.source_file, parsed.source_revision))
            tree["added"].append(_entry(parsed.dest_file, parsed.dest_detail))
        else:
            tree["modified"].append(_entry(parsed.dest_file, parsed.dest_detail))
    return tree


def in_history(info: ValidationInfo, parent_id: str, filename: str, revision: str) -> bool:
    """Whether ``filename`` at ``revision`` was written by ``parent_id`` or one of its
    ancestors known to ``info`` (the walk stops at the first commit ``info`` does not
    know, which must then be in the repository)."""
    seen: set[str] = set()
    commit = parent_id
    while commit in info and commit not in seen:
        seen.add(commit)
        tree = info[commit].get("tree") or {}
        for kind in ("added", "modified"):
            for entry in tree.get(kind) or ():
                if (
                    isinstance(entry, dict)
                    and entry.get("filename") == filename
                    and entry.get("revision") == revision
                ):
                    return True
        commit = info[commit].get("parent_id") or ""
    return False
