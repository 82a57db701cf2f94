"""The replay's differences kept on purpose: each pattern names a class and the reason it stays.

A class matches when its signature (``METHOD /api/... · kind``) matches the first pattern and
the step with its example (``<step> → <detail>``) matches the second (both searched). Classes
marked ``hidden`` match only where the reference server itself refuses the caller a read of the
object the step is about (the replay asks it). The reasons are the README's "Where rbapi
deliberately differs from Review Board 8.1", in short; a class that matches none stays open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ACCESS = "review requests and reviews the caller may not read stay closed"
DOUBLED = "the original repeats items (site-wide lists, users who are not superusers)"
RELATED = "related review requests the caller may not read are left out (the original links them)"
ALL_FIELDS = "a 105 names every bad field at once (the original checks ids after types)"
ORDER = "existence and access are checked before input (the original validates fields first)"


@dataclass(frozen=True)
class Known:
    signature: str
    step: str
    reason: str
    hidden: bool = False  # only when the original refuses the caller a read of the object


KNOWN: tuple[Known, ...] = (
    # Capabilities, extensions and users rbapi does not have.
    # (JSON paths use dots, XML paths slashes.)
    Known(r"capabilities[./]authentication[./]client_web_login", "", "no web login page"),
    Known(r"capabilities[./](scmtools|review_uis)", "", "capabilities list only what rbapi has"),
    Known(r"^GET /api/extensions/", "", "only Review Bot's extension is listed"),
    Known(
        r"^GET /api/users/ · .*(\.users|total_results|users/array)",
        r"GET /api/users/(\?|\s|$)",
        "no Power Pack user",
    ),
    # Well-formed answers where the original's are not.
    Known(r"· xml-unparsable$", r"→ True vs False$", "the original's XML is not well-formed"),
    Known(r"· outcome 405/- vs 405/900", "", "a 405 has a JSON error body"),
    # Access: what the caller may not read stays closed, whatever the input.
    Known(r"/draft/.*· outcome 404/100 vs 403/101", "", ACCESS),
    Known(r"· outcome [0-9]+/[0-9-]+ vs 403/101", "", ACCESS, hidden=True),
    Known(r"· outcome [0-9]+/[0-9-]+ vs 404/100", "", ACCESS, hidden=True),
    # Under a parent the caller may not read, rbapi refuses before it looks the item up, so an
    # outsider cannot tell which items exist there (the original answers 100 for missing ones).
    Known(r"· outcome [0-9]+/[0-9-]+ vs 401/103", "", ACCESS, hidden=True),
    Known(r"· outcome 400/105 vs 40[34]/10[01]", "", ORDER),
    Known(
        r"^GET /api/review-requests/\{id\}/.*/(files|diff-comments|file-attachment-comments)/ "
        r"· outcome (200|304)/- vs 40[134]/10[013]",
        "",
        "a list under a diff revision, file diff or attachment the caller cannot see is refused",
    ),
    Known(
        r"^GET /api/review-requests/\{id\}/file-attachments/\{id\}/file-attachment-comments/ "
        r"· (length|missing|extra|value \.total_results|xml missing|xml value rsp/total)",
        "",
        "an attachment's comment list shows published comments only",
    ),
    # Input rbapi refuses where the original stores nonsense.
    Known(
        r"^PUT /api/review-requests/\{id\}/draft/ · outcome [0-9]+/[0-9-]+ vs 400/105",
        r" vs .*fields=\[.*'depends_on'",
        "a review request cannot depend on itself or on one its editor may not read",
    ),
    Known(
        r"^PUT /api/review-requests/\{id\}/draft/ · (fields|extra \.fields\.depends_on)$",
        r"depends_on=.*depends_on",
        "a review request cannot depend on itself or on one its editor may not read",
    ),
    Known(
        r"^POST /api/review-requests/\{id\}/status-updates/ · outcome 201/- vs 400/105",
        r"(change_id|review_id)=.*fields=\['(change_id|review_id)'\]",
        "a status update's change and review belong to its review request",
    ),
    Known(
        r"/files/.*· (type|value|missing|extra) [.\w\[\]*]*(\.encoding|\.extra_data\."
        r"(encoding|\w+_count|orig_sha\w+|patched_sha\w+|\w+_mimetype))$",
        "",
        "a read stores nothing (the original saves what its diff viewer computed)",
    ),
    Known(r"^header item-content-type$", r"\[If-None-Match\]", "a 304 has no content headers"),
    Known(
        r"/diff-context/ · value \.diff_context\.revision\.is_draft_(diff|interdiff)$",
        "",
        "a draft diff is labelled a draft for every viewer who may open it",
    ),
    Known(r"· outcome (404|405|500)/- vs ", r"→ b'(\\n)*<!DOCTYPE", "never an HTML page"),
)


def explain(signature: str, step: str, detail: str, *, hidden: bool = False) -> str | None:
    """The reason a difference is deliberate, or None when it is open."""
    text = f"{step} → {detail}"
    for known in KNOWN:
        if known.hidden and not hidden:
            continue
        if re.search(known.signature, signature) and re.search(known.step, text):
            return known.reason
    return None
