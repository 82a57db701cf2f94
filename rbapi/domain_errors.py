"""Domain errors -> Review Board API errors, in one table.

Domain modules (reviews, status_updates, accounts, ...) raise plain exceptions that know nothing
of the web API; the one exception handler asks ``to_webapi_error`` what each becomes: the error
of the table, with Review Board's message prefix (``Error publishing: ...``) or the table's own
text where Review Board always sends that.
"""

from __future__ import annotations

from core import errors as core_errors
from rbapi import errors
from rbapi.errors import WebAPIError, WebAPIException
from reviews import errors as review_errors

# Domain error class -> (API error, message prefix; None sends the table's text).
DOMAIN_ERRORS: dict[type[Exception], tuple[WebAPIError, str | None]] = {
    review_errors.PublishError: (errors.PUBLISH_ERROR, "Error publishing: "),
    review_errors.NothingToPublishError: (errors.NOTHING_TO_PUBLISH, None),
    review_errors.CloseError: (errors.CLOSE_ERROR, "Error closing the review request: "),
    review_errors.CommitIdInUseError: (errors.CHANGE_NUMBER_IN_USE, None),
    review_errors.CommitIdExistsError: (errors.COMMIT_ID_ALREADY_EXISTS, None),
    review_errors.RevokeShipItError: (errors.REVOKE_SHIP_IT_ERROR, "Error revoking the Ship It: "),
    review_errors.GroupNameTakenError: (errors.GROUP_ALREADY_EXISTS, None),
    core_errors.DatabaseBusyError: (errors.SERVICE_BUSY, None),
}


def to_webapi_error(exc: Exception, *, anonymous: bool) -> WebAPIException | None:
    """The API error a domain exception stands for, or None if it is not one."""
    if isinstance(exc, core_errors.NotPermittedError):
        # As for any refused access: anonymous -> 103, logged in -> 101.
        return WebAPIException(errors.NOT_LOGGED_IN if anonymous else errors.PERMISSION_DENIED)
    if isinstance(exc, core_errors.InvalidFieldsError):
        return WebAPIException(errors.INVALID_FORM_DATA, fields=exc.fields)
    for cls in type(exc).__mro__:
        if cls in DOMAIN_ERRORS:
            error, prefix = DOMAIN_ERRORS[cls]
            message = None if prefix is None else f"{prefix}{exc}"
            return WebAPIException(error, message)
    return None
