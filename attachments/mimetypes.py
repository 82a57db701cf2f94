"""What kind of file an upload is, from the client's word or, when it gives none, its bytes.

Review Board trusts the part's ``Content-Type`` unless it is ``application/octet-stream``; then
it sniffs (spec: code-and-files.md §9): PNG bytes are ``image/png``, readable text is
``text/plain``, anything else stays ``application/octet-stream``. The standard library's
``mimetypes`` is not used for the sniff on purpose: it goes by the name only (``x.py`` would be
``text/x-python``, where Review Board says ``text/plain``).
"""

from __future__ import annotations

OCTET_STREAM = "application/octet-stream"

# Leading bytes of the formats a review UI shows, longest first where they share a prefix.
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"BM", "image/bmp"),
)
SNIFF_BYTES = 8192


def sniff(head: bytes) -> str:
    """The mimetype of a file that starts with ``head``."""
    for signature, mimetype in SIGNATURES:
        if head.startswith(signature):
            return mimetype
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if b"\x00" in head:
        return OCTET_STREAM
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        if exc.start < len(head) - 3:
            return OCTET_STREAM
    return "text/plain"


def detect(declared: str | None, head: bytes) -> str:
    """The client's mimetype (parameters dropped), unless it is missing or the generic
    ``application/octet-stream``; then what the bytes look like. Empty files stay generic."""
    mimetype = (declared or "").split(";", 1)[0].strip().lower()
    if mimetype and mimetype != OCTET_STREAM:
        return mimetype
    return sniff(head) if head else OCTET_STREAM
