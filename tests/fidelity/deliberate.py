"""The replay's differences kept on purpose: each pattern names a class and the reason it stays.

A class matches when its signature (``METHOD /api/... · kind``) matches ``signature`` and the
step with its example matches ``step`` (both regular expressions, searched). The reasons are the
README's "Deliberate differences" in short; a class that matches none is an open difference.
"""

from __future__ import annotations

import re

# (signature pattern, step-and-detail pattern, reason)
KNOWN: list[tuple[str, str, str]] = []


def explain(signature: str, step: str, detail: str) -> str | None:
    """The reason a difference is deliberate, or None when it is open."""
    for signature_pattern, step_pattern, reason in KNOWN:
        if re.search(signature_pattern, signature) and re.search(
            step_pattern, f"{step} → {detail}"
        ):
            return reason
    return None
