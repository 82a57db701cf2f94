"""Diff data: one file's change as Review Board's diff viewer chunks (spec: code-and-files.md
§5.1, §14 quirk 4; golden 059, 062, 063).

A file diff's ``diff.data+json`` answer is computed from the two whole sides of the file (the
original and the patched file of ``diffs.contents``), not from the stored hunks, because the
chunks cover the whole file: unchanged stretches are chunks too, long ones flagged
``collapsable`` with five lines of context kept on each side of a change, as Review Board
shows them. Lines are compared with :mod:`difflib` (no junk heuristics, so the result depends
on the lines alone); a ``replace`` of unequal length is split into a replace of equal length
and the rest as an insert or delete, since every row of a replace chunk pairs one old line
with one new line.

What a chunk carries, as observed on Review Board 8.1:

* each line is ``[row, old_line, old_text, old_regions, new_line, new_text, new_regions,
  whitespace_only]``; the missing side of an insert/delete row is ``""`` for both the number
  and the text (Review Bot relies on it, quirk 4); texts are HTML-escaped markup;
* ``regions`` are ``[]`` outside replace rows; on a replace row they are the changed
  character ranges of each side, or ``null`` when the two lines are too different to compare
  (less than 60% alike: golden 059 line 6);
* ``meta.left_headers``/``right_headers`` list the "interesting" lines (function and class
  definitions) of the chunk, with Review Board's off-by-one: the last line of a chunk of more
  than one line is not searched (golden 059 chunk 2 stops before ``def f3():`` on its last
  line); the chunks cut out of a long unchanged stretch carry only those headers, the others
  also ``whitespace_chunk``/``whitespace_lines`` (and ``moved-to``/``moved-from`` when lines
  moved); a collapsable chunk names the header it sits under in ``meta.headers``;
* rows whose only change is whitespace are listed in ``whitespace_lines`` and flagged in the
  row's last cell; a replace chunk made only of them is a ``whitespace_chunk``;
* a block of at least two changed lines that reappears elsewhere in the file is a move: the
  delete side maps old to new line numbers in ``meta["moved-to"]``, the insert side new to old
  in ``meta["moved-from"]``, and each moved row gets a ninth cell ``{"to"|"from": [line,
  first_of_block]}``.

The result depends only on the two files' bytes and the options, so it is cached in Django's
cache under the sha256 of those: exact by construction (a test compares it with a fresh
computation). This module is domain code: no web imports.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import PurePosixPath
from typing import Any

from django.core.cache import cache

#: Unchanged lines kept visible above and below a change.
CONTEXT_LINES = 5
#: An unchanged stretch longer than this is cut into context and a collapsable middle.
COLLAPSE_THRESHOLD = 2 * CONTEXT_LINES + 3
#: Two lines less alike than this (difflib's ratio) get no changed-region highlighting.
REGION_MIN_RATIO = 0.6
#: An unchanged run of fewer characters between two changes is folded into the next region.
REGION_MIN_EQUAL = 3
#: The fewest lines a moved block has.
MOVE_MIN_LINES = 2
#: Seconds a computed result stays in the cache (keyed by content: never stale).
CACHE_SECONDS = 24 * 3600
#: Bumped whenever the output's shape changes, so older cached results are not served.
CACHE_VERSION = "1"

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_WHITESPACE = re.compile(r"\s+")
_TRAILING_WHITESPACE = re.compile(r"(\s+)$")

# Definitions the diff viewer shows as headers, per family of file names.
_HEADER_PATTERNS: dict[str, re.Pattern[str]] = {
    "python": re.compile(r"^\s*(?:async\s+)?(?:def|class)\s"),
    "ruby": re.compile(r"^\s*(?:def|class|module)\s"),
    "perl": re.compile(r"^\s*sub\s"),
    "shell": re.compile(r"^\s*(?:function\s+[\w-]+|[\w-]+\s*\(\s*\))"),
    "javascript": re.compile(
        r"^\s*(?:export\s+)?(?:default\s+)?(?:async\s+)?(?:function\*?\s|class\s)"
    ),
    "go": re.compile(r"^(?:func|type)\s"),
    "java": re.compile(
        r"^\s*(?:(?:public|protected|private|static|abstract|final|sealed|internal|partial)\s+)*"
        r"(?:class|interface|enum|record|struct)\s"
    ),
    "c": re.compile(r"^(?:[A-Za-z_][\w\s\*&:<>,~]*\s[\*&]*)?[A-Za-z_~][\w:~]*\s*\([^;]*$"),
}
_HEADER_FAMILIES = {
    **dict.fromkeys((".py", ".pyw"), "python"),
    **dict.fromkeys((".rb", ".rake"), "ruby"),
    **dict.fromkeys((".pl", ".pm"), "perl"),
    **dict.fromkeys((".sh", ".bash", ".zsh"), "shell"),
    **dict.fromkeys((".js", ".jsx", ".mjs", ".ts", ".tsx"), "javascript"),
    ".go": "go",
    **dict.fromkeys((".java", ".cs", ".kt", ".scala"), "java"),
    **dict.fromkeys((".c", ".h", ".cc", ".cpp", ".cxx", ".hh", ".hpp", ".m", ".mm"), "c"),
}


@dataclass(frozen=True)
class DiffOptions:
    """What, besides the two files, shapes the chunks (and so the cache key)."""

    header_family: str | None = None
    context_lines: int = CONTEXT_LINES

    @classmethod
    def for_filename(cls, filename: str) -> DiffOptions:
        """The options the diff viewer uses for a file of this name (its header patterns)."""
        return cls(header_family=_HEADER_FAMILIES.get(PurePosixPath(filename).suffix.lower()))


def decode(data: bytes) -> str:
    """A file's text: UTF-8, else ISO-8859-15 (which decodes any byte), as Review Board falls
    back on."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("iso-8859-15")


def split_lines(text: str) -> list[str]:
    """The lines of ``text`` without their endings (any of ``\\n``, ``\\r\\n``, ``\\r``); a
    final line ending does not start another line."""
    if not text:
        return []
    lines = _LINE_BREAK.split(text)
    if lines[-1] == "":
        lines.pop()
    return lines


def diff_data(
    *,
    original: bytes,
    patched: bytes,
    filename: str,
    binary: bool = False,
    new_file: bool = False,
    use_cache: bool = True,
) -> dict[str, Any]:
    """The ``diff_data`` payload of a file diff: ``binary``, ``changed_chunk_indexes``,
    ``chunks``, ``new_file``, ``num_changes``. Binary files have no chunks (golden 063)."""
    if binary:
        chunks: list[dict[str, Any]] = []
    else:
        options = DiffOptions.for_filename(filename)
        chunks = cached_chunks(original, patched, options) if use_cache else None
        if chunks is None:
            chunks = compute_chunks(
                split_lines(decode(original)), split_lines(decode(patched)), options
            )
    changed = [chunk["index"] for chunk in chunks if chunk["change"] != "equal"]
    return {
        "binary": binary,
        "changed_chunk_indexes": changed,
        "chunks": chunks,
        "new_file": new_file,
        "num_changes": len(changed),
    }


def cache_key(original: bytes, patched: bytes, options: DiffOptions) -> str:
    """sha256 of both files and the options: the same inputs always give the same chunks."""
    digest = hashlib.sha256()
    digest.update(CACHE_VERSION.encode())
    digest.update(hashlib.sha256(original).digest())
    digest.update(hashlib.sha256(patched).digest())
    digest.update(json.dumps([options.header_family, options.context_lines]).encode())
    return "rbapi:diffchunks:" + digest.hexdigest()


def cached_chunks(original: bytes, patched: bytes, options: DiffOptions) -> list[dict[str, Any]]:
    """The chunks, from the cache when these exact inputs were computed before."""
    key = cache_key(original, patched, options)
    chunks = cache.get(key)
    if chunks is None:
        chunks = compute_chunks(
            split_lines(decode(original)), split_lines(decode(patched)), options
        )
        cache.set(key, chunks, CACHE_SECONDS)
    return chunks


# --- opcodes ---------------------------------------------------------------------------------
@dataclass
class _Opcode:
    tag: str
    i1: int
    i2: int
    j1: int
    j2: int
    meta: dict[str, Any]


def _opcodes(old: list[str], new: list[str]) -> list[_Opcode]:
    """difflib's opcodes with every replace of equal length on both sides."""
    result: list[_Opcode] = []
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "replace" and i2 - i1 != j2 - j1:
            common = min(i2 - i1, j2 - j1)
            result.append(_Opcode("replace", i1, i1 + common, j1, j1 + common, {}))
            if i2 - i1 > common:
                result.append(_Opcode("delete", i1 + common, i2, j2, j2, {}))
            else:
                result.append(_Opcode("insert", i2, i2, j1 + common, j2, {}))
        else:
            result.append(_Opcode(tag, i1, i2, j1, j2, {}))
    return result


def _mark_whitespace(opcodes: list[_Opcode], old: list[str], new: list[str]) -> None:
    """Every opcode's ``whitespace_lines`` (the 1-based line pairs of a replace that differ in
    whitespace only) and ``whitespace_chunk`` (all of its rows do)."""
    for op in opcodes:
        pairs: list[list[int]] = []
        if op.tag == "replace":
            for i, j in zip(range(op.i1, op.i2), range(op.j1, op.j2), strict=True):
                if _WHITESPACE.sub("", old[i]) == _WHITESPACE.sub("", new[j]):
                    pairs.append([i + 1, j + 1])
        op.meta["whitespace_chunk"] = bool(pairs) and len(pairs) == op.i2 - op.i1
        op.meta["whitespace_lines"] = pairs


def _find_moves(opcodes: list[_Opcode], old: list[str], new: list[str]) -> dict[int, int]:
    """Moved blocks: new line index -> old line index, for runs of at least
    ``MOVE_MIN_LINES`` removed lines that were added back elsewhere (ignoring indentation).
    A replace row's own partner is a change in place, never a move."""
    removed: dict[int, int] = {}  # old index -> opcode number
    by_text: dict[str, list[int]] = {}
    for number, op in enumerate(opcodes):
        if op.tag in ("delete", "replace"):
            for i in range(op.i1, op.i2):
                removed[i] = number
                if old[i].strip():
                    by_text.setdefault(old[i].strip(), []).append(i)
    moves: dict[int, int] = {}
    used: set[int] = set()
    for number, op in enumerate(opcodes):
        if op.tag not in ("insert", "replace"):
            continue
        j = op.j1
        while j < op.j2:
            best_start, best_length = -1, 0
            for i in by_text.get(new[j].strip(), ()):
                if i in used or (op.tag == "replace" and removed[i] == number):
                    continue
                length = 0
                while (
                    j + length < op.j2
                    and i + length in removed
                    and i + length not in used
                    and not (op.tag == "replace" and removed[i + length] == number)
                    and old[i + length].strip() == new[j + length].strip()
                ):
                    length += 1
                if length > best_length:
                    best_start, best_length = i, length
            if best_length >= MOVE_MIN_LINES:
                for offset in range(best_length):
                    moves[j + offset] = best_start + offset
                    used.add(best_start + offset)
                j += best_length
            else:
                j += 1
    for op in opcodes:
        moved_to = {
            str(i + 1): j + 1
            for j, i in moves.items()
            if op.tag != "insert" and op.i1 <= i < op.i2
        }
        moved_from = {
            str(j + 1): i + 1
            for j, i in moves.items()
            if op.tag != "delete" and op.j1 <= j < op.j2
        }
        if moved_to:
            op.meta["moved-to"] = moved_to
        if moved_from:
            op.meta["moved-from"] = moved_from
    return moves


# --- rows ------------------------------------------------------------------------------------
def changed_regions(
    old_line: str, new_line: str
) -> tuple[list[list[int]] | None, list[list[int]] | None]:
    """The changed character ranges of two paired lines, or ``(None, None)`` when they are
    too different for the ranges to help. Short unchanged runs between changes are folded in,
    and touching ranges merged, so a word edit shows as one range."""
    matcher = SequenceMatcher(None, old_line, new_line)
    if matcher.ratio() < REGION_MIN_RATIO:
        return None, None
    old_regions: list[list[int]] = []
    new_regions: list[list[int]] = []
    back = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            back = i2 - i1 if i2 - i1 < REGION_MIN_EQUAL else 0
            continue
        for regions, start, end in ((old_regions, i1 - back, i2), (new_regions, j1 - back, j2)):
            if regions and start <= regions[-1][1]:
                regions[-1][1] = max(regions[-1][1], end)
            else:
                regions.append([start, end])
        back = 0
    return old_regions, new_regions


def _markup(text: str, *, changed: bool) -> str:
    """A line as the viewer shows it: HTML-escaped, with trailing whitespace of changed lines
    marked."""
    escaped = html.escape(text)
    if changed:
        escaped = _TRAILING_WHITESPACE.sub(r'<span class="ws">\1</span>', escaped)
    return escaped


class _ChunkBuilder:
    def __init__(self, old: list[str], new: list[str], options: DiffOptions) -> None:
        self.old, self.new, self.options = old, new, options
        pattern = _HEADER_PATTERNS.get(options.header_family or "")
        self.headers = (
            [
                [n + 1, line]
                for n, line in enumerate(old)
                if pattern is not None and pattern.match(line)
            ],
            [
                [n + 1, line]
                for n, line in enumerate(new)
                if pattern is not None and pattern.match(line)
            ],
        )
        self.last_header: list[dict[str, Any] | None] = [None, None]
        self.chunks: list[dict[str, Any]] = []
        self.row = 0

    def rows(self, op: _Opcode, moves: dict[int, int], moved_back: dict[int, int]) -> list[list]:
        rows: list[list] = []
        whitespace = {tuple(pair) for pair in op.meta["whitespace_lines"]}
        count = max(op.i2 - op.i1, op.j2 - op.j1)
        for k in range(count):
            self.row += 1
            i = op.i1 + k if op.i1 + k < op.i2 else None
            j = op.j1 + k if op.j1 + k < op.j2 else None
            old_regions: list | None = []
            new_regions: list | None = []
            if op.tag == "replace" and i is not None and j is not None:
                old_regions, new_regions = changed_regions(self.old[i], self.new[j])
            changed = op.tag != "equal"
            row: list[Any] = [
                self.row,
                "" if i is None else i + 1,
                "" if i is None else _markup(self.old[i], changed=changed),
                old_regions,
                "" if j is None else j + 1,
                "" if j is None else _markup(self.new[j], changed=changed),
                new_regions,
                i is not None and j is not None and (i + 1, j + 1) in whitespace,
            ]
            moved: dict[str, list] = {}
            if j is not None and j in moves:
                moved["from"] = [moves[j] + 1, j == op.j1 or moves.get(j - 1) != moves[j] - 1]
            if i is not None and i in moved_back:
                target = moved_back[i]
                moved["to"] = [target + 1, i == op.i1 or moved_back.get(i - 1) != target - 1]
            if moved:
                row.append(moved)
            rows.append(row)
        return rows

    def side_headers(self, rows: list[list], start: int, end: int, side: int) -> list[list]:
        """The headers between the chunk's first row and its next-to-last row. Review Board
        searches up to the row before the last; for a one-row block that index wraps around
        to the block's last row (golden 059 chunks 0 and 7 keep their header)."""
        column = 1 if side == 0 else 4
        first, last = rows[start][column], rows[end - 2][column]
        if first == "" or last == "":
            return []
        found = [header for header in self.headers[side] if first <= header[0] <= last]
        if found:
            self.last_header[side] = {"line": found[-1][0], "text": found[-1][1]}
        return found

    def add(
        self,
        rows: list[list],
        start: int,
        end: int,
        *,
        tag: str = "equal",
        collapsable: bool = False,
        meta: dict[str, Any] | None = None,
    ) -> None:
        meta = dict(meta or {})
        meta["left_headers"] = self.side_headers(rows, start, end, 0)
        meta["right_headers"] = self.side_headers(rows, start, end, 1)
        if collapsable and (self.last_header[0] or self.last_header[1]):
            meta["headers"] = [self.last_header[0], self.last_header[1]]
        self.chunks.append(
            {
                "change": tag,
                "collapsable": collapsable,
                "index": len(self.chunks),
                "lines": rows[start:end],
                "meta": meta,
                "numlines": end - start,
            }
        )


def compute_chunks(
    old: list[str], new: list[str], options: DiffOptions | None = None
) -> list[dict[str, Any]]:
    """The chunks of the change from ``old`` to ``new`` (lists of lines), without the cache."""
    options = options or DiffOptions()
    context = options.context_lines
    opcodes = _opcodes(old, new)
    _mark_whitespace(opcodes, old, new)
    moves = _find_moves(opcodes, old, new)
    moved_back = {i: j for j, i in moves.items()}
    builder = _ChunkBuilder(old, new, options)
    for number, op in enumerate(opcodes):
        rows = builder.rows(op, moves, moved_back)
        count = len(rows)
        if op.tag != "equal" or count <= 2 * context + 3:
            builder.add(rows, 0, count, tag=op.tag, meta=op.meta)
        elif number == 0:
            # The top of the file: collapse down to the context above the first change.
            builder.add(rows, 0, count - context, collapsable=True)
            builder.add(rows, count - context, count)
        elif number == len(opcodes) - 1:
            builder.add(rows, 0, context)
            builder.add(rows, context, count, collapsable=True)
        else:
            builder.add(rows, 0, context)
            builder.add(rows, context, count - context, collapsable=True)
            builder.add(rows, count - context, count)
    return builder.chunks
