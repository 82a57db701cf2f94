"""Domain errors of the review workflow. Each names the web API error it becomes; the one
exception handler in ``rbapi.exceptions`` does the mapping, with the message prefixes Review
Board uses (spec: resources.md §0)."""

from __future__ import annotations

from rbapi import errors


class ReviewWorkflowError(Exception):
    """Base class: ``webapi_error`` and ``prefix`` say how the API reports it."""

    webapi_error = errors.INVALID_FORM_DATA
    prefix = ""
    # Errors whose API message is always the table's text, whatever the detail.
    uses_table_message = False

    @property
    def message(self) -> str:
        if self.uses_table_message:
            return self.webapi_error.msg
        return f"{self.prefix}{self}"


class PublishError(ReviewWorkflowError):
    webapi_error = errors.PUBLISH_ERROR
    prefix = "Error publishing: "


class NothingToPublishError(ReviewWorkflowError):
    webapi_error = errors.NOTHING_TO_PUBLISH
    uses_table_message = True


class CloseError(ReviewWorkflowError):
    webapi_error = errors.CLOSE_ERROR
    prefix = "Error closing the review request: "


class CommitIdInUseError(ReviewWorkflowError):
    webapi_error = errors.CHANGE_NUMBER_IN_USE
    uses_table_message = True


class RevokeShipItError(ReviewWorkflowError):
    webapi_error = errors.REVOKE_SHIP_IT_ERROR
    prefix = "Error revoking the Ship It: "


class GroupNameTakenError(ReviewWorkflowError):
    webapi_error = errors.GROUP_ALREADY_EXISTS
    uses_table_message = True
