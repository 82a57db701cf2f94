"""Reading an uploaded Git-style diff into its files.

The upload is split into one part per ``diff --git`` header, byte for byte (each file diff
keeps its own part, so ``text/x-patch`` of a file is exact). Each part's extended header is
read here (``index``, modes, ``new file``/``deleted file``, ``rename``/``copy``, binary
markers); its hunks are checked and counted by ``unidiff``, a maintained unified-diff parser,
so a malformed hunk is a parse error and not a silent miscount. Review Board's Git parser
names the same things (spec: code-and-files.md §4.2, §5).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import unidiff

PRE_CREATION = "PRE-CREATION"
NOT_A_GIT_DIFF = "This does not appear to be a git diff"
_HEADER = re.compile(rb"^diff --git (?P<names>.+)$", re.MULTILINE)
_INDEX = re.compile(r"^index ([0-9a-f]+)\.\.([0-9a-f]+)(?: ([0-7]+))?$")
_NULL_SHA = re.compile(r"^0+$")


class DiffParseError(ValueError):
    """The upload is not a diff this parser understands; ``linenum`` where it gave up."""

    def __init__(self, reason: str, linenum: int = 0) -> None:
        super().__init__(reason)
        self.reason, self.linenum = reason, linenum


@dataclass
class ParsedFile:
    source_file: str
    dest_file: str
    source_revision: str
    dest_detail: str
    status: str
    binary: bool
    diff: bytes
    extra_data: dict[str, Any] = field(default_factory=dict)
    added: bool = False

    @property
    def deleted(self) -> bool:
        return self.status == "deleted"


def _unquote(name: str) -> str:
    if len(name) >= 2 and name.startswith('"') and name.endswith('"'):
        name = name[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
        name = name.encode("latin-1", "replace").decode("utf-8", "replace")
    return name


def _strip_prefix(name: str) -> str:
    name = _unquote(name.strip())
    return name[2:] if name[:2] in ("a/", "b/") else name


def _split_names(names: str) -> tuple[str, str]:
    """``a/x b/y`` -> (x, y); names with spaces are split where both halves agree."""
    if names.startswith('"'):
        end = names.index('"', 1)
        return _strip_prefix(names[: end + 1]), _strip_prefix(names[end + 2 :])
    middle = names.find(" b/")
    if middle == -1:
        raise DiffParseError(NOT_A_GIT_DIFF)
    return _strip_prefix(names[:middle]), _strip_prefix(names[middle + 1 :])


def split_parts(data: bytes) -> list[bytes]:
    """The upload cut at each ``diff --git`` line (text before the first one is dropped, as
    Git's own preamble of commit messages is)."""
    starts = [match.start() for match in _HEADER.finditer(data)]
    if not starts:
        raise DiffParseError(NOT_A_GIT_DIFF)
    return [data[start:end] for start, end in zip(starts, [*starts[1:], len(data)], strict=True)]


def _parse_part(part: bytes, linenum: int) -> ParsedFile:
    text = part.decode("utf-8", "surrogateescape")
    lines = text.splitlines()
    source, dest = _split_names(lines[0][len("diff --git ") :])
    old_sha = new_sha = ""
    extra: dict[str, Any] = {"is_symlink": False}
    status = "modified"
    added = binary = False
    for line in lines[1:]:
        if line.startswith(("--- ", "+++ ", "@@")) or line == "GIT binary patch":
            break
        if match := _INDEX.match(line):
            old_sha, new_sha, mode = match.groups()
            if mode:
                extra["old_unix_mode"] = extra["new_unix_mode"] = mode
        elif line.startswith("new file mode "):
            added = True
            extra["new_unix_mode"] = line.split()[-1]
        elif line.startswith("deleted file mode "):
            status = "deleted"
            extra["old_unix_mode"] = line.split()[-1]
        elif line.startswith("old mode "):
            extra["old_unix_mode"] = line.split()[-1]
        elif line.startswith("new mode "):
            extra["new_unix_mode"] = line.split()[-1]
        elif line.startswith("rename from "):
            status, source = "moved", _unquote(line[len("rename from ") :])
        elif line.startswith("rename to "):
            dest = _unquote(line[len("rename to ") :])
        elif line.startswith("copy from "):
            status, source = "copied", _unquote(line[len("copy from ") :])
        elif line.startswith("copy to "):
            dest = _unquote(line[len("copy to ") :])
    if "GIT binary patch" in lines or any(
        line.startswith("Binary files ") and line.endswith(" differ") for line in lines
    ):
        binary = True
    if "120000" in (extra.get("old_unix_mode"), extra.get("new_unix_mode")):
        extra["is_symlink"] = True
    if status == "deleted":
        extra.pop("new_unix_mode", None)
    if added:
        extra.pop("old_unix_mode", None)
    inserts = deletes = 0
    if not binary and any(line.startswith("@@") for line in lines):
        try:
            patch = unidiff.PatchSet(text)
        except unidiff.UnidiffParseError as exc:
            raise DiffParseError(str(exc), linenum) from None
        for patched in patch:
            inserts += patched.added
            deletes += patched.removed
    extra["raw_insert_count"] = inserts
    extra["raw_delete_count"] = deletes
    source_revision = PRE_CREATION if added or _NULL_SHA.match(old_sha or "x") else old_sha
    return ParsedFile(
        source_file=source,
        dest_file=dest,
        source_revision=source_revision,
        dest_detail=new_sha,
        status=status,
        binary=binary,
        diff=part,
        extra_data=extra,
        added=added,
    )


def parse_diff(data: bytes) -> list[ParsedFile]:
    """The files of a Git diff, in upload order; ``DiffParseError`` if it is not one."""
    files = []
    linenum = 0
    for part in split_parts(data):
        files.append(_parse_part(part, linenum))
        linenum += part.count(b"\n")
    return files
