"""Reading the code-and-files transcripts (``../shared/spec/golden-files/NNN-*.txt``) for
whole-body comparisons: the response's status, Content-Type and JSON body, with the capture's
host (and any other text the caller names) replaced by the test's."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

GOLDEN_DIR = Path(__file__).resolve().parents[2] / "shared" / "spec" / "golden-files"
CAPTURE_HOST = "http://127.0.0.1:8081"
TEST_HOST = "http://testserver"


class Golden:
    """One transcript: ``status``, ``headers`` (lower-case names) and ``text`` (the body)."""

    def __init__(self, number: int) -> None:
        (path,) = GOLDEN_DIR.glob(f"{number:03d}-*.txt")
        response = path.read_text().split("### RESPONSE\n", 1)[1]
        head, _, self.text = response.partition("\n\n")
        lines = head.splitlines()
        self.status = int(lines[0].split()[1])
        self.headers = {
            name.lower(): value for name, _, value in (line.partition(": ") for line in lines[1:])
        }
        self.text = self.text.strip("\n")

    def body(self, replace: dict[str, str] | None = None) -> Any:
        """The JSON body, with the host and then each ``replace`` key swapped for its value
        (in the JSON text, so ids inside URLs change too; one pass, no chains)."""
        text = self.text.replace(CAPTURE_HOST, TEST_HOST)
        if replace:
            # One pass, longest first, so that "2 -> 4" and then "4 -> 6" never chain.
            pattern = "|".join(re.escape(old) for old in sorted(replace, key=len, reverse=True))
            text = re.sub(pattern, lambda match: replace[match.group(0)], text)
        return json.loads(text)


def golden(number: int) -> Golden:
    return Golden(number)


def drop_links(body: Any, *names: str) -> Any:
    """``body`` without the named links anywhere in it: links to resources rbapi does not
    serve yet (each caller says which and why)."""
    if isinstance(body, list):
        return [drop_links(item, *names) for item in body]
    if isinstance(body, dict):
        return {
            key: (
                {k: v for k, v in value.items() if k not in names}
                if key == "links" and isinstance(value, dict)
                else drop_links(value, *names)
            )
            for key, value in body.items()
        }
    return body
