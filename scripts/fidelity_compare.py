#!/usr/bin/env python3
"""Compare a capture of rbapi with the golden capture of Review Board 8.1, setting aside only
the differences README.md lists as deliberate ("Where rbapi deliberately differs").

Usage: python3 scripts/fidelity_compare.py GOLDEN_DIR OURS_DIR [-v]

Everything compare.py checks is checked (status, every header but Date/Server/Set-Cookie/
Content-Length/ETag/Connection, the normalised body), except, per case:

* headers: ``Vary`` (rbapi names ``Authorization`` where the original names
  ``Accept-Language``), ``Content-Language`` (rbapi serves English only and does not say so)
  and ``X-RateLimit-*`` (rbapi sends them on every answer);
* a 405: rbapi answers the JSON error 900 (with the same ``Allow``) where the original sends an
  empty HTML body;
* root and info: ``capabilities`` and the ``links``/``uri_templates`` of resources rbapi does
  not serve (capabilities list only what rbapi implements);
* ``extra_data.calculated_trophies``: the original's trophy cache flag (set when a request is
  first published; the recorded transcripts and this seeding differ in when that happened);
* the users list: Power Pack's ``powerpack-docconverter`` user, which rbapi does not have.

Each case prints OK, DELIBERATE (equal once the documented differences are set aside, with
which ones) or FAIL (with the rest). Exit status 0 when no case FAILs.
"""

from __future__ import annotations

import copy
import os
import sys


def _import_compare():
    here = os.path.dirname(os.path.abspath(__file__))
    shared = os.environ.get("RBAPI_SHARED") or os.path.join(here, "..", "..", "shared")
    sys.path.insert(0, os.path.join(os.path.abspath(shared), "tools", "refserver"))
    import compare

    return compare


C = _import_compare()
DELIBERATE_HEADERS = {"vary", "content-language", "x-ratelimit-limit", "x-ratelimit-remaining"}
POWERPACK_USER = "powerpack-docconverter"


def _headers(case: dict) -> dict[str, str]:
    return {k.lower(): v for k, v in case["response_headers"] if k.lower() not in C.SKIP_HDRS}


def _drop_trophies(value):
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "extra_data" and isinstance(item, dict):
                item = {k: v for k, v in item.items() if k != "calculated_trophies"}
            out[key] = _drop_trophies(item)
        return out
    if isinstance(value, list):
        return [_drop_trophies(item) for item in value]
    return value


def _catalogue(golden: dict, ours: dict) -> tuple[dict, dict]:
    """Root/info: keep only what rbapi serves, on both sides."""
    golden, ours = copy.deepcopy(golden), copy.deepcopy(ours)
    for g, o in ((golden, ours), (golden.get("info"), ours.get("info"))):
        if not isinstance(g, dict) or not isinstance(o, dict):
            continue
        g.pop("capabilities", None)
        o.pop("capabilities", None)
        for block in ("links", "uri_templates"):
            if isinstance(g.get(block), dict) and isinstance(o.get(block), dict):
                g[block] = {k: v for k, v in g[block].items() if k in o[block]}
    return golden, ours


def _without_powerpack(body: dict) -> dict:
    body = copy.deepcopy(body)
    users = body.get("users")
    if isinstance(users, list):
        kept = [u for u in users if u.get("username") != POWERPACK_USER]
        if len(kept) != len(users):
            body["users"] = kept
            body["total_results"] = body.get("total_results", 0) - (len(users) - len(kept))
    return body


def compare_case(ca: dict, cb: dict, base_a: str, base_b: str) -> tuple[list[str], list[str]]:
    """(problems, deliberate differences set aside) for one case."""
    problems: list[str] = []
    deliberate: list[str] = []
    if ca["status"] != cb["status"]:
        problems.append(f"status {ca['status']} != {cb['status']}")
    ha, hb = _headers(ca), _headers(cb)
    is_405 = ca["status"] == cb["status"] == 405
    for key in sorted(set(ha) | set(hb)):
        if ha.get(key) == hb.get(key):
            continue
        if key in DELIBERATE_HEADERS or (is_405 and key == "content-type"):
            deliberate.append(f"header {key}")
        else:
            problems.append(f"header {key}: {ha.get(key)!r} != {hb.get(key)!r}")
    if (
        is_405
        and ca["response_body"] == ""
        and (cb["response_json"] or {}).get("err", {}).get("code") == 900
    ):
        deliberate.append("405 JSON error 900")
        return problems, deliberate
    if ca["response_json"] is None and cb["response_json"] is None:
        ta = C.norm(ca["response_body"], base_a)
        tb = C.norm(cb["response_body"], base_b)
        if ta != tb:
            trimmed = ta.replace("   <calculated_trophies>1</calculated_trophies>\n", "")
            if trimmed == tb:
                deliberate.append("calculated_trophies")
            else:
                problems.append("text body differs")
        return problems, deliberate
    ja = C.norm(ca["response_json"], base_a)
    jb = C.norm(cb["response_json"], base_b)
    if ja == jb:
        return problems, deliberate
    steps = [
        ("calculated_trophies", _drop_trophies, _drop_trophies),
        ("catalogue of unserved resources", None, None),
        ("powerpack-docconverter user", _without_powerpack, lambda body: body),
    ]
    for name, fa, fb in steps:
        if name.startswith("catalogue"):
            if isinstance(ja, dict) and ("capabilities" in ja or "info" in ja):
                na, nb = _catalogue(ja, jb)
            else:
                continue
        else:
            na, nb = fa(ja), fb(jb)
        if (na, nb) != (ja, jb):
            deliberate.append(name)
            ja, jb = na, nb
        if ja == jb:
            return problems, deliberate
    problems.append("json body differs")
    return problems, deliberate


def main(argv: list[str]) -> int:
    args = [a for a in argv[1:] if not a.startswith("-")]
    if len(args) != 2:
        sys.exit(__doc__)
    a, b = C.load(args[0]), C.load(args[1])
    ours = {c["name"]: c for c in b["cases"]}
    failed = set_aside = 0
    for ca in a["cases"]:
        cb = ours.get(ca["name"])
        if cb is None:
            problems, deliberate = ["missing"], []
        else:
            problems, deliberate = compare_case(ca, cb, a["base_url"], b["base_url"])
        verdict = "FAIL" if problems else ("DELIBERATE" if deliberate else "OK")
        failed += bool(problems)
        set_aside += bool(deliberate) and not problems
        detail = (
            "; ".join(problems + [f"({d})" for d in deliberate])
            if "-v" in argv or (problems)
            else ""
        )
        print(f"{verdict:<10} {ca['n']:03d} {ca['name']} {detail}".rstrip())
    total = len(a["cases"])
    print(
        f"{failed}/{total} differ beyond the documented deliberate differences "
        f"({set_aside} equal once those are set aside)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
