#!/usr/bin/env python3
"""Replay the 176 "golden-files" transcripts (code and files) against a Review Board server.

Usage:
    python3 scripts/golden_files_capture.py BASE_URL REF_DIR OUT_DIR [--golden-dir DIR]
    python3 scripts/golden_files_capture.py --golden DIR OUT_DIR

The first form expects a server freshly seeded by the refserver's ``seed.py`` whose repository 1
is the bare git repository ``REF_DIR/gitrepo`` (seed.py builds it there). It

1. adds on disk what the golden README says exists beyond seed.py: the second commit
   ``4c85f00e`` on ``main`` of REF_DIR/gitrepo (src/app.py, old/name.txt, del.txt, logo.png;
   rebuilt byte for byte, so the SHA is the recorded one) and the empty bare repository
   REF_DIR/gitrepo-b that case 004 registers as repository 2;
2. replays, in order, each transcript's request (method, path, headers in their order, body)
   with the writes that built the recorded data set but have no transcript of their own
   ("setup steps", see ``SETUP``) run just before the case they precede. The request is
   retargeted, nothing else: Host is this server, the recording's REF_DIR (``/tmp/specref``,
   raw or URL-encoded; ``/srv/refserver`` in case it appears) becomes REF_DIR, binary uploads
   that the transcripts show decoded with replacement get their real bytes back (the red PNG
   squares and logo.png are rebuilt byte for byte, see ``BINARY_CANDIDATES``), and
   Content-Length is recomputed. Users come from the recorded Authorization header
   (Basic, password = user name), so they are the recorded ones;
3. writes OUT_DIR/NNN-name.txt and OUT_DIR/all.json in the format of the refserver's
   capture.py, so that compare.py (or scripts/golden_files_compare.py) can compare them with
   the golden transcripts.

Set GF_STOP_AFTER=N to stop after case N (a debugging aid while inferring setup steps).

The second form (``--golden``) converts the golden transcripts themselves into such an
all.json, which is the other side of the comparison.

Only the Python standard library is used, so the script runs with any python3 (3.11+).
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import urllib.parse
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_GOLDEN = os.path.join(HERE, "..", "..", "shared", "spec", "golden-files")
# The recorded run served 127.0.0.1:8081 and its REF_DIR was /tmp/specref; the README says
# repository paths in the responses were rewritten to /srv/refserver.
GOLDEN_BASE = "http://127.0.0.1:8081"
RECORDED_REF_DIRS = ("/tmp/specref", "/srv/refserver")
CASE_RE = re.compile(r"^### CASE (\d{3}) (\S+) \(user=(\w+)\)$")

# Commit dates and identity of the recorded repository (seed.py uses the same identity).
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ref Author",
    "GIT_AUTHOR_EMAIL": "ref@example.com",
    "GIT_COMMITTER_NAME": "Ref Author",
    "GIT_COMMITTER_EMAIL": "ref@example.com",
    "GIT_AUTHOR_DATE": "2024-01-02T00:00:00Z",
    "GIT_COMMITTER_DATE": "2024-01-02T00:00:00Z",
}
SECOND_COMMIT = "4c85f00eef4dce3fdcfed74fdf0d00b53666565f"
BASE_COMMIT = SECOND_COMMIT
COMMIT_A = "988a2d8dbe0d14818cbfd9dbbef39e380e7d133b"


# --------------------------------------------------------------------------------------------
# Binary contents the transcripts only show lossily (decoded as UTF-8 with replacement).


def _png(width: int, height: int, rgb: bytes) -> bytes:
    """A plain RGB PNG filled with one colour, compressed with zlib's default level.

    The recorded uploads are such images: the red 2x2 (sha256 97a3a410...) and the red 3x3
    (sha256 de2f192d...) squares are reproduced byte for byte by this function.
    """

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    raw = b"".join(b"\x00" + rgb * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


# logo.png before and after "change A": the git binary patches in the diffs carry both as
# `literal` blocks; decoded, they are the PNG signature followed by bytes 0..255 (blob f4ed4802)
# and by bytes 255..0 (blob 78d53249).
LOGO_OLD = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
LOGO_NEW = b"\x89PNG\r\n\x1a\n" + bytes(range(255, -1, -1))
BINARY_CANDIDATES = [
    _png(2, 2, b"\xff\x00\x00"),
    _png(3, 3, b"\xff\x00\x00"),
    LOGO_OLD,
    LOGO_NEW,
]


def lossy(data: bytes) -> bytes:
    """What a transcript shows for ``data``: UTF-8 decoding with replacement, re-encoded."""
    return data.decode("utf-8", "replace").encode("utf-8")


def restore_binary(body: bytes) -> bytes:
    """Put the real bytes back into a multipart body that a transcript shows lossily.

    Each known binary upload is recognised by its lossy rendering; an unknown one is sent as
    shown (and reported), which can only change checksums, not ids or statuses.
    """
    if b"\xef\xbf\xbd" not in body:
        return body
    for data in BINARY_CANDIDATES:
        shown = lossy(data)
        if shown != data and shown in body:
            body = body.replace(shown, data)
    if b"\xef\xbf\xbd" in body:
        print("    warning: a binary part could not be restored; sent lossily", file=sys.stderr)
    return body


# --------------------------------------------------------------------------------------------
# Transcripts.


@dataclass
class Transcript:
    """One golden transcript: the request to replay and the recorded response."""

    n: int
    name: str
    user: str
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes
    status: int
    reason: str
    response_headers: list[tuple[str, str]]
    response_body: bytes
    extra: dict = field(default_factory=dict)


def _split_head(block: bytes) -> tuple[list[str], bytes]:
    head, _, body = block.partition(b"\n\n")
    return head.decode("utf-8", "replace").split("\n"), body


def parse_transcript(path: str) -> Transcript:
    """Parse NNN-name.txt as written by capture.py (bytes kept: multipart bodies hold CRLF)."""
    with open(path, "rb") as f:
        data = f.read()
    first, _, rest = data.partition(b"\n")
    m = CASE_RE.match(first.decode())
    if not m:
        raise ValueError(f"{path}: not a transcript")
    req, sep, resp = rest.partition(b"\n### RESPONSE\n")
    if not sep:
        raise ValueError(f"{path}: no response")
    req = req.removeprefix(b"### REQUEST\n")
    lines, body = _split_head(req)
    method, target, _ = lines[0].split(" ", 2)
    headers = [tuple(h.split(": ", 1)) for h in lines[1:]]
    rlines, rbody = _split_head(resp)
    rbody = rbody.removesuffix(b"\n")  # capture.py ends the file with a newline
    _, status, reason = ([*rlines[0].split(" ", 2), ""])[:3]
    rheaders = [tuple(h.split(": ", 1)) for h in rlines[1:]]
    return Transcript(
        n=int(m.group(1)),
        name=m.group(2),
        user=m.group(3),
        method=method,
        path=target,
        headers=headers,
        body=body,
        status=int(status),
        reason=reason,
        response_headers=rheaders,
        response_body=rbody,
    )


def load_transcripts(golden_dir: str) -> list[Transcript]:
    """All NNN-*.txt of the golden directory, in case order."""
    names = sorted(f for f in os.listdir(golden_dir) if re.match(r"\d{3}-.*\.txt$", f))
    return [parse_transcript(os.path.join(golden_dir, f)) for f in names]


def _json_or_none(body: bytes):
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


def case_record(
    t: Transcript,
    req_headers: list[tuple[str, str]],
    req_body: bytes,
    status: int,
    reason: str,
    rheaders: list[tuple[str, str]],
    rbody: bytes,
) -> dict:
    """One entry of all.json, with the keys capture.py writes."""
    return {
        "n": t.n,
        "name": t.name,
        "user": None if t.user == "anon" else t.user,
        "method": t.method,
        "path": t.path,
        "request_headers": dict(req_headers),
        "request_body": req_body.decode("utf-8", "replace"),
        "status": status,
        "reason": reason,
        "response_headers": [list(h) for h in rheaders],
        "response_body": rbody.decode("utf-8", "replace"),
        "response_json": _json_or_none(rbody),
    }


def write_case_text(out_dir: str, rec: dict, req_line: str, req_body: bytes, rbody: bytes) -> None:
    """NNN-name.txt in capture.py's layout (bytes as sent/received, decoded with replacement)."""
    text = [f"### CASE {rec['n']:03d} {rec['name']} (user={rec['user'] or 'anon'})"]
    text.append("### REQUEST")
    text.append(req_line)
    text.extend(f"{k}: {v}" for k, v in rec["request_headers"].items())
    text.append("")
    text.append(req_body.decode("utf-8", "replace"))
    text.append("### RESPONSE")
    text.append(f"HTTP/1.1 {rec['status']} {rec['reason']}")
    text.extend(f"{k}: {v}" for k, v in rec["response_headers"])
    text.append("")
    text.append(rbody.decode("utf-8", "replace"))
    path = os.path.join(out_dir, f"{rec['n']:03d}-{rec['name']}.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(text) + "\n")


def convert_golden(golden_dir: str, out_dir: str) -> int:
    """Write OUT_DIR/all.json from the golden transcripts (the recorded side of a comparison)."""
    os.makedirs(out_dir, exist_ok=True)
    cases = []
    for t in load_transcripts(golden_dir):
        rec = case_record(
            t, t.headers, t.body, t.status, t.reason, t.response_headers, t.response_body
        )
        cases.append(rec)
    with open(os.path.join(out_dir, "all.json"), "w") as f:
        json.dump({"base_url": GOLDEN_BASE, "cases": cases}, f, indent=1, sort_keys=True)
    print(f"wrote {len(cases)} cases to {os.path.join(out_dir, 'all.json')}")
    return 0


# --------------------------------------------------------------------------------------------
# HTTP.


class Server:
    """The server under test: raw requests for the replay, JSON calls for the setup steps."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")
        u = urllib.parse.urlsplit(self.base)
        self.host, self.port, self.netloc = u.hostname, u.port or 80, u.netloc

    def raw(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        """Send exactly these headers, in this order (no implicit Host/Accept-Encoding)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for k, v in headers:
            conn.putheader(k, v)
        conn.endheaders(body or None)
        resp = conn.getresponse()
        data = resp.read()
        result = resp.status, resp.reason, resp.getheaders(), data
        conn.close()
        return result

    def call(
        self,
        method: str,
        path: str,
        user: str | None,
        fields: dict | None = None,
        files: dict | None = None,
    ) -> dict:
        """A setup write, as seed.py sends them (Basic auth, password = user name)."""
        headers = [("Host", self.netloc), ("Accept", "application/json")]
        if user:
            tok = base64.b64encode((f"{user}:{user}").encode()).decode()
            headers.append(("Authorization", "Basic " + tok))
        body = b""
        if files:
            boundary = uuid.uuid4().hex
            parts = []
            for k, v in (fields or {}).items():
                parts.append(
                    (
                        f"--{boundary}\r\n"
                        f'Content-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                    ).encode()
                )
            for k, (fname, data) in files.items():
                parts.append(
                    (
                        f"--{boundary}\r\n"
                        f'Content-Disposition: form-data; name="{k}"; filename="{fname}"\r\n'
                        "Content-Type: application/octet-stream\r\n\r\n"
                    ).encode()
                    + data
                    + b"\r\n"
                )
            parts.append((f"--{boundary}--\r\n").encode())
            body = b"".join(parts)
            headers.append(("Content-Type", "multipart/form-data; boundary=" + boundary))
        elif fields is not None:
            body = urllib.parse.urlencode(fields).encode()
            headers.append(("Content-Type", "application/x-www-form-urlencoded"))
        if body or method in ("POST", "PUT"):
            headers.append(("Content-Length", str(len(body))))
        status, _, _, data = self.raw(method, path, headers, body)
        j = _json_or_none(data) or {}
        print(f"    setup {method:<6} {path:<58} as {user or '-':<6} -> {status}")
        if status >= 400:
            text = data[:600].decode("utf-8", "replace")
            raise SystemExit(f"setup step failed: {text}")
        return j


# --------------------------------------------------------------------------------------------
# Disk setup.


def _git(args: list[str], cwd: str | None = None) -> str:
    env = dict(os.environ, **GIT_ENV)
    out = subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return out.stdout.strip()


APP_PY = "".join(f"def f{i}():\n    return {i}\n" for i in range(1, 21))


def prepare_repositories(ref_dir: str) -> None:
    """Push the recorded second commit to REF_DIR/gitrepo and create REF_DIR/gitrepo-b.

    The diffs of the transcripts name blobs of that commit in their `index` lines (src/app.py
    2cf6de42, old/name.txt 85c30401, del.txt 42020113, logo.png f4ed4802); Review Board's local
    Git tool reads them with `git cat-file`, so they must exist. The commit is rebuilt with the
    recorded identity, dates and message, which gives exactly 4c85f00e. parent.txt (c9aa7420)
    must stay absent: cases 026 and 076 show the error for a missing blob.
    """
    gitrepo = os.path.join(ref_dir, "gitrepo")
    if not os.path.isdir(gitrepo):
        raise SystemExit(f"{gitrepo} does not exist; run seed.py (reset.sh) first")
    have = subprocess.run(
        ["git", "cat-file", "-e", SECOND_COMMIT + "^{commit}"], cwd=gitrepo, capture_output=True
    )
    if have.returncode != 0:
        work = tempfile.mkdtemp(prefix="gf-gitwork-")
        try:
            _git(["clone", "-q", gitrepo, work])
            os.makedirs(os.path.join(work, "src"), exist_ok=True)
            os.makedirs(os.path.join(work, "old"), exist_ok=True)
            contents = {
                "src/app.py": APP_PY.encode(),
                "old/name.txt": b"alpha\nbeta\ngamma\n",
                "del.txt": b"to be deleted\n",
                "logo.png": LOGO_OLD,
            }
            for name, data in contents.items():
                with open(os.path.join(work, name), "wb") as f:
                    f.write(data)
            _git(["add", *contents], cwd=work)
            _git(["commit", "-q", "-m", "second commit"], cwd=work)
            sha = _git(["rev-parse", "HEAD"], cwd=work)
            if sha != SECOND_COMMIT:
                print(f"warning: second commit is {sha}, not {SECOND_COMMIT}")
            _git(["push", "-q", "origin", "HEAD:main"], cwd=work)
        finally:
            subprocess.run(["rm", "-rf", work], check=True)
    print(f"gitrepo main = {_git(['rev-parse', 'main'], cwd=gitrepo)}")
    repo_b = os.path.join(ref_dir, "gitrepo-b")
    if not os.path.isdir(repo_b):
        _git(["init", "-q", "--bare", "-b", "main", repo_b])
        print(f"created {repo_b}")


# --------------------------------------------------------------------------------------------
# Setup steps: the writes of the recorded run that have no transcript. Each is inferred from
# the ids, states and change descriptions the transcripts show; SETUP maps a case number to
# the steps run just before that case.


Step = Callable[["Server", dict], None]


def _read_golden_body(ctx: dict, n: int) -> bytes:
    return ctx["by_n"][n].body


def step_create_rr6(srv: Server, ctx: dict) -> None:
    """create RR #6 (doc, repository 1): 076-080 upload to it and 081 creates RR #7.

    Nothing shows more of it: it is the "RR #6 (doc, parent diff, draft only)" of the README.
    """
    rr = srv.call("POST", "/api/review-requests/", "doc", {"repository": "1"})
    assert rr["review_request"]["id"] == 6, rr


def _multipart_field(body: bytes, name: str) -> bytes:
    """The value of one part of a recorded multipart body (used to reuse recorded diffs)."""
    m = re.search(
        rb'Content-Disposition: form-data; name="%s"(?:; filename="[^"]*")?\r\n'
        rb"(?:Content-Type: [^\r]*\r\n)?\r\n(.*?)\r\n--=====" % re.escape(name.encode()),
        body,
        re.S,
    )
    if not m:
        raise KeyError(name)
    return m.group(1)


SQUASHED_COMMIT = hashlib.sha1(b"change A (squashed)").hexdigest()


def step_rr7_second_revision(srv: Server, ctx: dict) -> None:
    """publish RR #7 revision 2: 101 lists change 5, "Dropped change B.", adding diff 9.

    That change shows revision 2 as one commit "change A (squashed)" by Ref Author on base
    4c85f00e (commit_list old = change A + change B). The commit's own SHA and diff are not
    shown anywhere; the cumulative diff of A+B (the one finalized in 092) and a made-up SHA
    are used. Like RBTools: validate the commit, create an empty diff revision, post the
    commit, finalize the series, publish with the change text.
    """
    cumulative = restore_binary(_read_golden_body(ctx, 92))
    cumulative = _multipart_field(cumulative, "cumulative_diff")
    val = srv.call(
        "POST",
        "/api/validation/commits/",
        "doc",
        {
            "repository": "1",
            "commit_id": SQUASHED_COMMIT,
            "parent_id": BASE_COMMIT,
            "base_commit_id": BASE_COMMIT,
        },
        files={"diff": ("diff", cumulative)},
    )
    info = val["commit_validation"]["validation_info"]
    d = srv.call(
        "POST",
        "/api/review-requests/7/draft/diffs/",
        "doc",
        {"base_commit_id": BASE_COMMIT},
        files={},
    )
    rev = d["diff"]["revision"]
    srv.call(
        "POST",
        f"/api/review-requests/7/draft/diffs/{rev}/draft-commits/",
        "doc",
        {
            "commit_id": SQUASHED_COMMIT,
            "parent_id": BASE_COMMIT,
            "commit_message": "change A (squashed)",
            "author_name": "Ref Author",
            "author_email": "ref@example.com",
            "author_date": "2024-01-02T00:00:00+00:00",
            "committer_name": "Ref Author",
            "committer_email": "ref@example.com",
            "committer_date": "2024-01-02T00:00:00+00:00",
        },
        files={"diff": ("diff", cumulative)},
    )
    srv.call(
        "PUT",
        f"/api/review-requests/7/draft/diffs/{rev}/",
        "doc",
        {"finalize_commit_series": "1", "validation_info": info},
        files={"cumulative_diff": ("cumulative_diff", cumulative)},
    )
    srv.call(
        "PUT",
        "/api/review-requests/7/draft/",
        "doc",
        {"changedescription": "Dropped change B.", "public": "1"},
    )


def _review(rr: int, user: str, expect_id: int, why: str) -> Step:
    def step(srv: Server, ctx: dict) -> None:
        rv = srv.call("POST", f"/api/review-requests/{rr}/reviews/", user, {})
        assert rv["review"]["id"] == expect_id, rv

    step.__doc__ = f"create review {expect_id} by {user} on RR #{rr}: {why}"
    return step


def _publish_review(rr: int, review: int, user: str, why: str) -> Step:
    def step(srv: Server, ctx: dict) -> None:
        srv.call("PUT", f"/api/review-requests/{rr}/reviews/{review}/", user, {"public": "1"})

    step.__doc__ = f"publish review {review}: {why}"
    return step


def _reply(rr: int, review: int, user: str, expect_id: int, why: str) -> Step:
    def step(srv: Server, ctx: dict) -> None:
        rp = srv.call("POST", f"/api/review-requests/{rr}/reviews/{review}/replies/", user, {})
        assert rp["reply"]["id"] == expect_id, rp

    step.__doc__ = f"create reply {expect_id} by {user} to review {review}: {why}"
    return step


def _publish_rr(rr: int, user: str, why: str) -> Step:
    def step(srv: Server, ctx: dict) -> None:
        srv.call("PUT", f"/api/review-requests/{rr}/draft/", user, {"public": "1"})

    step.__doc__ = f"publish the draft of RR #{rr} (no change text): {why}"
    return step


# Case number -> the steps run just before it. The "why" of each step is the evidence.
SETUP: dict[int, list[Step]] = {
    76: [step_create_rr6],
    101: [step_rr7_second_revision],
    108: [_review(5, "grumpy", 3, "108-122 comment on review 3 as grumpy")],
    115: [_publish_review(5, 3, "grumpy", "115-118 list its comments as public to anonymous")],
    120: [_reply(5, 3, "doc", 4, "120-122 add comments to reply 4 (it stays a draft)")],
    130: [_publish_rr(5, "doc", "130 lists change 6 (files added: red.png)")],
    135: [_publish_rr(5, "doc", "135 shows attachments 2-5 to anonymous (change 7)")],
    138: [_publish_rr(5, "doc", "138 lists change 8 (caption of 4, attachment 5 removed)")],
    139: [_review(5, "admin", 5, "139-141 comment on review 5 as admin")],
    142: [_publish_review(5, 5, "admin", "142-143 list its comments as public to anonymous")],
    145: [_publish_rr(5, "doc", "145 lists change 9 (attachments 2 and 3 removed)")],
    148: [_review(5, "admin", 6, "148 comments on review 6 as admin")],
    149: [_publish_rr(5, "doc", "149 shows the screenshot of 147 as published")],
}


# --------------------------------------------------------------------------------------------
# Replay.


def rewrite_paths(data: bytes, ref_dir: str) -> bytes:
    """Point the recorded REF_DIR (raw or URL-encoded) at this run's REF_DIR."""
    for old in RECORDED_REF_DIRS:
        data = data.replace(old.encode(), ref_dir.encode())
        data = data.replace(
            urllib.parse.quote(old, safe="").encode(),
            urllib.parse.quote(ref_dir, safe="").encode(),
        )
    return data


def build_request(
    t: Transcript, srv: Server, ref_dir: str
) -> tuple[str, list[tuple[str, str]], bytes]:
    """The recorded request, retargeted: host, REF_DIR paths, real binary bytes, length."""
    path = rewrite_paths(t.path.encode(), ref_dir).decode()
    body = restore_binary(rewrite_paths(t.body, ref_dir))
    headers = []
    for k, v in t.headers:
        if k.lower() == "host":
            v = srv.netloc
        elif k.lower() == "content-length":
            v = str(len(body))
        headers.append((k, v))
    return path, headers, body


def capture(base_url: str, ref_dir: str, out_dir: str, golden_dir: str) -> int:
    """Prepare the repositories, replay setup steps and transcripts, write the capture."""
    ref_dir = os.path.abspath(ref_dir)
    os.makedirs(out_dir, exist_ok=True)
    transcripts = load_transcripts(golden_dir)
    prepare_repositories(ref_dir)
    srv = Server(base_url)
    ctx = {"by_n": {t.n: t for t in transcripts}}
    stop = int(os.environ.get("GF_STOP_AFTER", "0") or 0)
    results = []
    for t in transcripts:
        for step in SETUP.get(t.n, []):
            print(f"  setup before {t.n:03d}: {(step.__doc__ or '').strip().splitlines()[0]}")
            step(srv, ctx)
        path, headers, body = build_request(t, srv, ref_dir)
        status, reason, rheaders, rbody = srv.raw(t.method, path, headers, body)
        rec = case_record(t, headers, body, status, reason, rheaders, rbody)
        rec["path"] = path
        write_case_text(out_dir, rec, f"{t.method} {path} HTTP/1.1", body, rbody)
        results.append(rec)
        ctype = dict((k.lower(), v) for k, v in rheaders).get("content-type", "")
        flag = "" if status == t.status else f"   (recorded {t.status})"
        print(f"{t.n:03d} {t.name:<48} {t.method:<6} {status:3d} {ctype}{flag}")
        if stop and t.n >= stop:
            break
    with open(os.path.join(out_dir, "all.json"), "w") as f:
        json.dump({"base_url": srv.base, "cases": results}, f, indent=1, sort_keys=True)
    return 0


def main(argv: list[str]) -> int:
    """Command line: capture mode or --golden conversion mode."""
    if len(argv) >= 1 and argv[0] == "--golden":
        if len(argv) != 3:
            print(__doc__)
            return 2
        return convert_golden(argv[1], argv[2])
    golden_dir = DEFAULT_GOLDEN
    if "--golden-dir" in argv:
        i = argv.index("--golden-dir")
        golden_dir = argv[i + 1]
        argv = argv[:i] + argv[i + 2 :]
    if len(argv) != 3:
        print(__doc__)
        return 2
    return capture(argv[0], argv[1], argv[2], os.path.abspath(golden_dir))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
