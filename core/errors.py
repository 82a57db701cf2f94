"""Domain errors every app shares. Plain exceptions with no knowledge of the web API:
``rbapi.domain_errors`` maps them to Review Board errors, once, for the exception handler."""

from __future__ import annotations

from typing import Any


class NotPermittedError(Exception):
    """The user may not do this to the object as it is now (decided under the row lock, e.g.
    editing a review that was published a moment ago)."""


class InvalidFieldsError(Exception):
    """Input that is invalid against the stored state (e.g. an extra_data patch that does not
    apply); ``fields`` maps each field to its messages, as a form error reports them."""

    def __init__(self, fields: dict[str, Any]) -> None:
        super().__init__(", ".join(fields))
        self.fields = fields


class DatabaseBusyError(Exception):
    """The database kept refusing a write (deadlock, serialisation failure, busy) after a
    retry; the client may try again later."""
