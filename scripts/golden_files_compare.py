#!/usr/bin/env python3
"""Compare a golden_files_capture.py run with the golden-files transcripts, run-independently.

Usage:
    python3 scripts/golden_files_compare.py GOLDEN_ALL_DIR OUT_DIR [-v]

GOLDEN_ALL_DIR holds the all.json that ``golden_files_capture.py --golden`` writes from the
transcripts; OUT_DIR is a capture. Everything the refserver's compare.py checks is checked the
same way (status; every header but Date, Server, Set-Cookie, Content-Length, ETag and
Connection; JSON bodies structurally, other bodies as text), with compare.py's ``norm`` (base
URL, ISO timestamps, paths ending in /gitrepo) plus exactly these normalisations, each needed
because the value differs from run to run or from machine to machine, never because a
behaviour differs:

* URL-encoded repository paths (``%2Ftmp%2Fspecref%2Fgitrepo``): compare.py only rewrites
  raw paths, and RBTools' repository lookup (case 002) echoes its ``path=`` query in the
  ``self`` link, so the recording machine's REF_DIR shows up encoded there;
* the base URL in headers (``Location``): compare.py normalises it in bodies only, and the
  recorded server listened on another port;
* HTTP dates (``Last-Modified: Sun, 29 Nov 2026 04:32:21 GMT``): the time the object was
  last changed, in the RFC 7231 format compare.py's ISO-timestamp rule does not cover;
* the date directories of uploads (``uploaded/files/2026/11/29/``): Django's upload_to puts
  the day of the upload in the path, so any run on another day than the recording differs;
* UUIDs: file attachments are stored as ``<uuid4>__name`` (this shows up in the cropped
  thumbnail of a region comment) and user file attachments are addressed by a uuid4;
* Django's collision suffix on stored screenshot names (``shot_iB38ivS.png``): when a file of
  that name already exists in the day's upload directory, Django appends ``_`` and seven
  random characters, so the name depends on what earlier runs left in the media directory;
  ``name.png`` and ``name_XXXXXXX.png`` (and their ``_400x100`` thumbnails) compare equal;
* ``AJAX_SERIAL``/``TEMPLATE_SERIAL`` in HTML pages (case 176): cache-busting serials, Unix
  timestamps of the install (the recorded ones are 04:32:10 and 04:17:00 on the recording's
  day, just before case 001 at 04:32:14; another install or a reset shows its own times),
  not a property of the request.

Prints OK/FAIL per case (with what differs; -v also prints the first differing JSON paths or
text lines) and "N/176 differ". Exit status 1 when a case differs.
"""

from __future__ import annotations

import re
import sys
from typing import Any

# The refserver's compare.py (found as fidelity_compare.py finds it) and the headers every
# rbapi answer differs in, both from the loop of the other 54 transcripts beside this script.
from fidelity_compare import DELIBERATE_HEADERS, C

ENCODED_GITREPO = re.compile(r"(?:%2F[^\s\"'<>&%]+)*%2Fgitrepo\b", re.I)
UPLOAD_DATE = re.compile(r"(uploaded/[a-z]+/)\d{4}/\d{2}/\d{2}/")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
COLLISION_SUFFIX = re.compile(
    r"\b([A-Za-z][A-Za-z0-9-]*?)(?:_(?!\d+x\d+\b)[A-Za-z0-9]{7})?((?:_\d+x\d+)?\.png)\b"
)
HTTP_DATE = re.compile(r"\b[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT\b")
SERIALS = re.compile(r"((?:AJAX|TEMPLATE)_SERIAL = )\"\d+\"")


def _norm_text(s: str) -> str:
    s = ENCODED_GITREPO.sub("<GITREPO>", s)
    s = HTTP_DATE.sub("<HTTPDATE>", s)
    s = UPLOAD_DATE.sub(r"\1<DATE>/", s)
    s = UUID.sub("<UUID>", s)
    s = COLLISION_SUFFIX.sub(r"\1\2", s)
    return SERIALS.sub(r'\1"<SERIAL>"', s)


def _walk(value):
    if isinstance(value, dict):
        return {k: _walk(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v) for v in value]
    if isinstance(value, str):
        return _norm_text(value)
    return value


def norm(value, base: str):
    """compare.py's norm, then the normalisations listed in the module docstring."""
    return _walk(C.norm(value, base))


def _headers(case: dict, base: str) -> dict[str, str]:
    return {
        k.lower(): norm(v, base)
        for k, v in case["response_headers"]
        if k.lower() not in C.SKIP_HDRS
    }


def _json_diffs(a, b, path: str = "$", out: list[str] | None = None) -> list[str]:
    out = [] if out is None else out
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                where = "missing in golden" if k not in a else "missing in capture"
                out.append(f"{path}.{k}: {where}")
            else:
                _json_diffs(a[k], b[k], f"{path}.{k}", out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _json_diffs(x, y, f"{path}[{i}]", out)
    elif a != b:
        out.append(f"{path}: {a!r:.150} != {b!r:.150}")
    return out


def compare_case(ca: dict, cb: dict | None, base_a: str, base_b: str) -> tuple[list, list]:
    """The problems of one case (short) and their details (for -v)."""
    if cb is None:
        return ["missing"], []
    probs, details = [], []
    if ca["status"] != cb["status"]:
        probs.append(f"status {ca['status']} != {cb['status']}")
    ha, hb = _headers(ca, base_a), _headers(cb, base_b)
    for k in sorted(set(ha) | set(hb)):
        if ha.get(k) != hb.get(k):
            probs.append(f"header {k}: {ha.get(k)!r} != {hb.get(k)!r}")
    if ca["response_json"] is not None or cb["response_json"] is not None:
        ja, jb = norm(ca["response_json"], base_a), norm(cb["response_json"], base_b)
        if ja != jb:
            probs.append("json body differs")
            details = _json_diffs(ja, jb)
    else:
        ta, tb = norm(ca["response_body"], base_a), norm(cb["response_body"], base_b)
        if ta != tb:
            probs.append("text body differs")
            la, lb = ta.split("\n"), tb.split("\n")
            details = [
                f"line {i + 1}: {x!r:.200} != {y!r:.200}"
                for i, (x, y) in enumerate(zip(la, lb, strict=False))
                if x != y
            ]
            if len(la) != len(lb):
                details.append(f"{len(la)} lines != {len(lb)} lines")
    return probs, details


# --- --deliberate: rbapi against the transcripts ---------------------------------------------
# rbapi differs from Review Board 8.1 on purpose in the ways README.md lists ("Where rbapi
# deliberately differs", "Uploaded files"). With --deliberate a case whose every difference is
# one of those is DELIBERATE instead of FAIL; each rule checks what rbapi answered, so a case
# that drifts from the documented answer fails again.
DIFF_ID_PATH = re.compile(
    r"^\$(\.diff|\.diffs\[\d+\]|\.changes\[\d+\]\.fields_changed\.diff\.added)\.id: "
)
READ_STORES_NOTHING = re.compile(
    r"^\$\.file\.(encoding|orig_sha256|patched_sha256|extra_data\.\w+): "
)
THUMBNAIL = re.compile(r"\.thumbnail_html: '<img class=\"modified-image\" .*' != None$")
SCREENSHOT_URL = re.compile(
    r"\.(absolute_url|url|thumbnail_url): .* != '(<BASE>)?/r/\d+/s/\d+/image/'$"
)


def _error(case: dict, status: int, code: int) -> bool:
    body = case["response_json"] or {}
    return case["status"] == status and body.get("err", {}).get("code") == code


def _ok(case: dict, status: int) -> bool:
    return case["status"] == status and (case["response_json"] or {}).get("stat") == "ok"


def _only(pattern: re.Pattern) -> Any:
    return lambda ca, cb, details: bool(details) and all(pattern.search(d) for d in details)


# case number -> (README's reason, check of rbapi's answer and the JSON differences)
RULES: dict[int, tuple[str, Any]] = {
    9: (
        'a path Git cannot read: git\'s reason in `error` (the original: "None")',
        lambda ca, cb, d: _error(cb, 500, 210) and all(x.startswith("$.error:") for x in d),
    ),
    10: ("105, not an HTML 500 (a lowercase `tool`)", lambda ca, cb, d: _error(cb, 400, 105)),
    26: (
        "a file missing from the repository is 207 with `file` and `revision`",
        lambda ca, cb, d: _error(cb, 400, 207),
    ),
    44: ("105, not an HTML 500 (`binary=true`)", lambda ca, cb, d: _error(cb, 400, 105)),
    60: ("a read stores nothing (diff viewer results)", _only(READ_STORES_NOTHING)),
    73: ("a read stores nothing (diff viewer results)", _only(READ_STORES_NOTHING)),
    107: ("a read stores nothing (diff viewer results)", _only(READ_STORES_NOTHING)),
    114: (
        "105, not an HTML 500 (a negative `first_line`)",
        lambda ca, cb, d: _error(cb, 400, 105),
    ),
    129: (
        "the draft attachment list is closed to those who may not edit",
        lambda ca, cb, d: _error(cb, 403, 101),
    ),
    140: ("no cropped image in `thumbnail_html`", _only(THUMBNAIL)),
    142: ("no cropped image in `thumbnail_html`", _only(THUMBNAIL)),
    143: ("no cropped image in `thumbnail_html`", _only(THUMBNAIL)),
    147: ("screenshots are served at /r/N/s/ID/image/, with access checks", _only(SCREENSHOT_URL)),
    149: ("screenshots are served at /r/N/s/ID/image/, with access checks", _only(SCREENSHOT_URL)),
    156: (
        "a 302 has a JSON body in the item's type",
        lambda ca, cb, d: cb["status"] == 302 and cb["response_json"] == {"stat": "ok"},
    ),
    160: (
        "a watched group's item also takes its name (302, not an HTML 500)",
        lambda ca, cb, d: cb["status"] == 302 and cb["response_json"] == {"stat": "ok"},
    ),
    174: ("only Review Bot's extension is listed", lambda ca, cb, d: _ok(cb, 200)),
    175: ("rbapi serves Review Bot's extension", lambda ca, cb, d: _ok(cb, 200)),
    176: ("rbapi serves Review Bot's review resource", lambda ca, cb, d: _ok(cb, 201)),
}
for _n in (75, 161):
    RULES[_n] = (
        "a 405 has a JSON error body (900)",
        lambda ca, cb, d: _error(cb, 405, 900) and ca["status"] == 405,
    )


def deliberate_case(
    ca: dict, cb: dict, base_a: str, base_b: str, diff_ids: dict[int, int]
) -> tuple[list[str], list[str]]:
    """(problems, deliberate differences set aside) of one case. ``diff_ids`` collects the
    golden -> rbapi diff id pairs: the original's diff validation stores a diff set and
    deletes it again, so its diff ids skip numbers rbapi's (which stores nothing) does not;
    the pairs must stay one consistent renumbering over the whole run."""
    probs, details = compare_case(ca, cb, base_a, base_b)
    aside = sorted({p.split(":")[0] for p in probs if p.split(":")[0][7:] in DELIBERATE_HEADERS})
    probs = [p for p in probs if p.split(":")[0] not in aside]
    if not probs:
        return [], aside
    rule = RULES.get(ca["n"])
    if rule is not None:
        reason, check = rule
        if check(ca, cb, details):
            return [], [*aside, reason]
        return [*probs, f"(not the documented answer: {reason})"], aside
    if probs == ["json body differs"] and details and all(DIFF_ID_PATH.match(d) for d in details):
        pairs = [tuple(int(v) for v in d.split(": ", 1)[1].split(" != ")) for d in details]
        if all(diff_ids.setdefault(g, o) == o for g, o in pairs) and len(
            set(diff_ids.values())
        ) == len(diff_ids):
            return [], [*aside, "diff ids renumbered (the original's validation uses some up)"]
    return probs, aside


def main(argv: list[str]) -> int:
    """Compare two all.json files case by case; print OK/FAIL (or DELIBERATE with
    --deliberate) and the N/total figure."""
    verbose = "-v" in argv
    set_aside = "--deliberate" in argv
    argv = [a for a in argv if a not in ("-v", "--deliberate")]
    if len(argv) != 2:
        print(__doc__)
        return 2
    a, b = C.load(argv[0]), C.load(argv[1])
    bcases = {c["name"]: c for c in b["cases"]}
    bad = deliberate = 0
    diff_ids: dict[int, int] = {}
    for ca in a["cases"]:
        cb = bcases.get(ca["name"])
        if set_aside and cb is not None:
            probs, aside = deliberate_case(ca, cb, a["base_url"], b["base_url"], diff_ids)
            verdict = "FAIL" if probs else ("DELIBERATE" if aside else "OK")
            deliberate += verdict == "DELIBERATE"
            shown = probs + [f"({x})" for x in aside] if verbose or probs else []
            print(f"{verdict:<10} {ca['n']:03d} {ca['name']} {'; '.join(shown)}".rstrip())
            bad += bool(probs)
            continue
        probs, details = compare_case(ca, cb, a["base_url"], b["base_url"])
        print(f"{'FAIL' if probs else 'OK':<4} {ca['n']:03d} {ca['name']} {'; '.join(probs)}")
        if verbose:
            for d in details[:12]:
                print("       " + d)
        bad += bool(probs)
    if set_aside:
        print(
            f"{bad}/{len(a['cases'])} differ beyond the documented deliberate differences "
            f"({deliberate} equal once those are set aside)"
        )
    else:
        print(f"{bad}/{len(a['cases'])} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
