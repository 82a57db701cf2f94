"""Domain errors of the review workflow.

Plain exceptions, with no knowledge of the web API: ``rbapi.domain_errors`` maps each class to
the Review Board error it becomes (code, HTTP status and message prefix), once, for the one
exception handler (spec: resources.md §0).
"""

from __future__ import annotations


class ReviewWorkflowError(Exception):
    """Base class of the review workflow's refusals."""


class PublishError(ReviewWorkflowError):
    """The draft cannot be published (a reviewer, summary or description is missing)."""


class NothingToPublishError(ReviewWorkflowError):
    """A published review request's draft changes nothing."""


class CloseError(ReviewWorkflowError):
    """The review request cannot be closed that way."""


class CommitIdInUseError(ReviewWorkflowError):
    """Another review request of the repository has this commit ID (creation)."""


class CommitIdExistsError(ReviewWorkflowError):
    """Another review request of the repository has this commit ID (a draft's edit)."""


class RevokeShipItError(ReviewWorkflowError):
    """The Ship It cannot be revoked."""


class GroupNameTakenError(ReviewWorkflowError):
    """Another review group has this name."""
