"""The API token format: ``rbp_`` + 245 random base62 characters + a 6-character base62 CRC32
of them, 255 characters in all (Review Board's ``vendor_checksum`` generator).

The prefix and checksum let secret scanners (GitHub, GitGuardian) recognise a leaked token
and let the server refuse a mistyped one without a database lookup. Older 40-hex tokens
(``legacy_sha1``) are still looked up, and answered with a deprecation header.
"""

from __future__ import annotations

import re
import secrets
import zlib

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
PREFIX = "rbp_"
RANDOM_LENGTH = 245
CHECKSUM_LENGTH = 6
TOKEN_LENGTH = len(PREFIX) + RANDOM_LENGTH + CHECKSUM_LENGTH
VENDOR_CHECKSUM = "vendor_checksum"
LEGACY_SHA1 = "legacy_sha1"
_LEGACY = re.compile(r"^[0-9a-f]{40}$")


def _base62(number: int, width: int) -> str:
    digits = []
    while number:
        number, digit = divmod(number, 62)
        digits.append(BASE62[digit])
    return "".join(reversed(digits)).rjust(width, "0")


def checksum(random_part: str) -> str:
    return _base62(zlib.crc32(random_part.encode("ascii")), CHECKSUM_LENGTH)


def generate_token() -> str:
    random_part = "".join(secrets.choice(BASE62) for _ in range(RANDOM_LENGTH))
    return f"{PREFIX}{random_part}{checksum(random_part)}"


def generator_of(token: str) -> str | None:
    """Which generator could have made ``token``: vendor_checksum (with a correct checksum),
    legacy_sha1, or None for something no generator makes (refused without a lookup)."""
    if token.startswith(PREFIX) and len(token) == TOKEN_LENGTH:
        random_part, check = token[len(PREFIX) : -CHECKSUM_LENGTH], token[-CHECKSUM_LENGTH:]
        if all(char in BASE62 for char in random_part) and (
            checksum(random_part).lower() == check.lower()
        ):
            return VENDOR_CHECKSUM
        return None
    if _LEGACY.match(token):
        return LEGACY_SHA1
    return None
