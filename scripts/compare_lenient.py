#!/usr/bin/env python3
"""Lenient comparison of two capture.py outputs: status and JSON body only.

Usage: python3 scripts/compare_lenient.py GOLDEN_DIR OTHER_DIR [--headers] [--key-order] [--diff]

Reuses the normalisation of the shared compare.py (base URL, ISO timestamps, git repository
path) but ignores the response headers, Vary first of all (rbapi deliberately adds
Authorization to it). Per case it reports whether the status and the normalised JSON body (or
the text body when neither side is JSON) are equal:

  EQUAL   status and body equal ("equal apart from deliberate header differences")
  E405    deliberate: the original answers 405 with an empty HTML body, rbapi answers 405 with
          the JSON error 900 (request-method-not-allowed); the Allow headers are equal
  DIFF    anything else

Options:
  --headers    also list the header differences other than Vary and compare.py's skipped ones
  --key-order  also check that JSON object keys common to both sides come in the same order
               (compare.py ignores key order)
  --diff       print where the JSON bodies differ (JSON paths), for DIFF cases

compare.py is found in $RBAPI_SHARED/tools/refserver, else ../../shared/tools/refserver
relative to this script. Exit status: 0 when no case is DIFF, 1 otherwise.
"""

from __future__ import annotations

import json
import os
import sys


def _import_compare():
    here = os.path.dirname(os.path.abspath(__file__))
    shared = os.environ.get("RBAPI_SHARED") or os.path.join(here, "..", "..", "shared")
    sys.path.insert(0, os.path.join(os.path.abspath(shared), "tools", "refserver"))
    try:
        import compare
    except ImportError:
        sys.exit(f"compare_lenient: cannot import compare.py from {shared} (set RBAPI_SHARED)")
    return compare


C = _import_compare()
IGNORED_HEADERS = set(C.SKIP_HDRS) | {"vary"}
MAX_DIFF_LINES = 25


def headers(case):
    return {k.lower(): v for k, v in case["response_headers"] if k.lower() not in IGNORED_HEADERS}


def json_paths_diff(a, b, path="$", out=None):
    """Where two normalised JSON values differ, as 'path: golden != ours' lines."""
    out = [] if out is None else out
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            sub = f"{path}.{key}"
            if key not in b:
                out.append(f"{sub}: only in golden ({_short(a[key])})")
            elif key not in a:
                out.append(f"{sub}: only in ours ({_short(b[key])})")
            else:
                json_paths_diff(a[key], b[key], sub, out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} items != {len(b)} items")
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            json_paths_diff(x, y, f"{path}[{i}]", out)
    elif a != b:
        out.append(f"{path}: {_short(a)} != {_short(b)}")
    return out


def _short(value, width=90):
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= width else text[: width - 3] + "..."


def key_order_diff(text_a, text_b):
    """Paths whose objects list their common keys in a different order."""
    try:
        a = json.loads(text_a, object_pairs_hook=list)
        b = json.loads(text_b, object_pairs_hook=list)
    except ValueError:
        return []
    out = []

    def walk(x, y, path):
        if _is_obj(x) and _is_obj(y):
            ka, kb = [k for k, _ in x], [k for k, _ in y]
            # Compare the order of the keys both sides have (extra keys are a body difference).
            common_a = [k for k in ka if k in kb]
            common_b = [k for k in kb if k in ka]
            if common_a != common_b:
                out.append(f"{path}: {common_a} != {common_b}")
            dy = dict(y)
            for k, v in x:
                if k in dy:
                    walk(v, dy[k], f"{path}.{k}")
        elif isinstance(x, list) and isinstance(y, list):
            for i, (u, v) in enumerate(zip(x, y, strict=False)):
                walk(u, v, f"{path}[{i}]")

    walk(a, b, "$")
    return out


def _is_obj(value):
    # object_pairs_hook=list turns objects into lists of 2-tuples; a JSON array of arrays
    # would be lists of lists, so tuples identify objects.
    # (an empty object and an empty array both become [], which is harmless here).
    return isinstance(value, list) and all(isinstance(p, tuple) for p in value)


def is_deliberate_405(ca, cb):
    if ca["status"] != 405 or cb["status"] != 405:
        return False
    if ca["response_body"] != "" or not isinstance(cb["response_json"], dict):
        return False
    err = cb["response_json"].get("err") or {}
    allow_a = dict((k.lower(), v) for k, v in ca["response_headers"]).get("allow")
    allow_b = dict((k.lower(), v) for k, v in cb["response_headers"]).get("allow")
    return err.get("code") == 900 and allow_a == allow_b


def main(argv):
    opts = {a for a in argv[1:] if a.startswith("--")}
    args = [a for a in argv[1:] if not a.startswith("--")]
    if len(args) != 2 or opts - {"--headers", "--key-order", "--diff"}:
        sys.exit(__doc__)
    a, b = C.load(args[0]), C.load(args[1])
    bcases = {c["name"]: c for c in b["cases"]}
    counts = {"EQUAL": 0, "E405": 0, "DIFF": 0}
    for ca in a["cases"]:
        cb = bcases.get(ca["name"])
        notes = []
        if cb is None:
            verdict, status_ok, body_ok = "DIFF", False, False
            notes.append("missing")
        else:
            status_ok = ca["status"] == cb["status"]
            if ca["response_json"] is not None or cb["response_json"] is not None:
                ja = C.norm(ca["response_json"], a["base_url"])
                jb = C.norm(cb["response_json"], b["base_url"])
                body_ok = ja == jb
            else:
                ja = jb = None
                body_ok = C.norm(ca["response_body"], a["base_url"]) == C.norm(
                    cb["response_body"], b["base_url"]
                )
            if status_ok and body_ok:
                verdict = "EQUAL"
            elif is_deliberate_405(ca, cb):
                verdict = "E405"
            else:
                verdict = "DIFF"
            if not status_ok:
                notes.append(f"status {ca['status']} != {cb['status']}")
            if not body_ok:
                notes.append("body differs")
            if "--headers" in opts:
                ha, hb = headers(ca), headers(cb)
                for k in sorted(set(ha) | set(hb)):
                    if ha.get(k) != hb.get(k):
                        notes.append(f"header {k}: {ha.get(k)!r} != {hb.get(k)!r}")
            if (
                "--key-order" in opts
                and ca["response_json"] is not None
                and cb["response_json"] is not None
            ):
                for line in key_order_diff(
                    C.norm(ca["response_body"], a["base_url"]),
                    C.norm(cb["response_body"], b["base_url"]),
                ):
                    notes.append("key order " + line)
        counts[verdict] += 1
        status_text = "ok" if status_ok else "DIFF"
        body_text = "ok" if body_ok else "DIFF"
        notes_text = ("  " + "; ".join(notes)) if notes else ""
        print(
            f"{verdict:<5} {ca['n']:03d} {ca['name']:<42} "
            f"status={status_text} body={body_text}{notes_text}"
        )
        if "--diff" in opts and verdict == "DIFF" and cb is not None and ja is not None:
            lines = json_paths_diff(ja, jb)
            for line in lines[:MAX_DIFF_LINES]:
                print("        " + line)
            if len(lines) > MAX_DIFF_LINES:
                print(f"        ... {len(lines) - MAX_DIFF_LINES} more")
    total = len(a["cases"])
    print(
        f"{counts['EQUAL']}/{total} equal in status and body, "
        f"{counts['E405']} deliberate 405, {counts['DIFF']} differ"
    )
    return 1 if counts["DIFF"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
