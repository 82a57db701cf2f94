"""The web API error table: every Djblets and Review Board error, with code, message, type and
HTTP status, plus the exception that carries one to the exception handler.

Codes, messages and types are those of Djblets 6.1 / Review Board 8.1 (spec: mechanics.md §1).
rbapi's own additions sit in the 900 range so they never collide with a future upstream code.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

WWW_AUTHENTICATE = {"WWW-Authenticate": 'Basic realm="Web API"'}


@dataclass(frozen=True)
class WebAPIError:
    """One entry of the error table."""

    code: int
    msg: str
    error_type: str
    http_status: int
    headers: dict[str, str] = field(default_factory=dict)

    def with_message(self, msg: str) -> WebAPIError:
        """The same error with a handler-specific message (Djblets' ``with_message``)."""
        return replace(self, msg=msg)


# --- Djblets --------------------------------------------------------------------------------
NO_ERROR = WebAPIError(0, "If you see this, yell at the developers", "no-error", 400)
SERVICE_NOT_CONFIGURED = WebAPIError(
    1, "The web service has not yet been configured", "server-not-configured", 503
)
DOES_NOT_EXIST = WebAPIError(100, "Object does not exist", "resource-does-not-exist", 404)
PERMISSION_DENIED = WebAPIError(
    101, "You don't have permission for this", "resource-permission-denied", 403
)
INVALID_ATTRIBUTE = WebAPIError(102, "Invalid attribute", "resource-attribute-invalid", 400)
NOT_LOGGED_IN = WebAPIError(
    103, "You are not logged in", "auth-not-logged-in", 401, WWW_AUTHENTICATE
)
LOGIN_FAILED = WebAPIError(
    104, "The username or password was not correct", "auth-login-failed", 401, WWW_AUTHENTICATE
)
INVALID_FORM_DATA = WebAPIError(105, "One or more fields had errors", "request-field-error", 400)
MISSING_ATTRIBUTE = WebAPIError(
    106, "Missing value for the attribute", "request-attribute-missing", 400
)
ENABLE_EXTENSION_FAILED = WebAPIError(
    107, "There was a problem enabling the extension", "extension-enable-error", 500
)
DISABLE_EXTENSION_FAILED = WebAPIError(
    108, "There was a problem disabling the extension", "extension-disable-error", 500
)
EXTENSION_INSTALLED = WebAPIError(
    109, "This extension has already been installed.", "extension-already-installed", 409
)
INSTALL_EXTENSION_FAILED = WebAPIError(
    110, "An error occurred while installing the extension", "extension-install-error", 409
)
DUPLICATE_ITEM = WebAPIError(
    111, "An entry for this item or its unique key(s) already exists", "resource-conflict", 409
)
OAUTH_MISSING_SCOPE_ERROR = WebAPIError(
    112,
    "Your OAuth2 token lacks the necessary scopes for this request.",
    "auth-oauth2-missing-scope",
    403,
)
OAUTH_ACCESS_DENIED_ERROR = WebAPIError(
    113,
    "OAuth2 token access for this resource is prohibited.",
    "auth-oauth2-access-denied",
    403,
)
RATE_LIMIT_EXCEEDED = WebAPIError(
    114, "API rate limit has been exceeded.", "request-rate-limit-exceeded", 429
)

# --- Review Board ---------------------------------------------------------------------------
UNSPECIFIED_DIFF_REVISION = WebAPIError(
    200, "Diff revision not specified.", "diff-revision-missing", 400
)
INVALID_DIFF_REVISION = WebAPIError(201, "Invalid diff revision.", "diff-revision-invalid", 404)
INVALID_ACTION = WebAPIError(202, "Invalid action specified.", "action-invalid", 400)
INVALID_CHANGE_NUMBER = WebAPIError(
    203, "The commit ID specified could not be found.", "repository-commit-id-invalid", 404
)
CHANGE_NUMBER_IN_USE = WebAPIError(
    204,
    "The commit ID specified has already been used.",
    "review-request-commit-id-conflict",
    409,
)
MISSING_REPOSITORY = WebAPIError(
    205, "There was no repository found at the specified path.", "repository-missing", 400
)
INVALID_REPOSITORY = WebAPIError(
    206,
    "The repository path specified is not in the list of known repositories.",
    "repository-invalid",
    400,
)
REPO_FILE_NOT_FOUND = WebAPIError(
    207, "The file was not found in the repository.", "repository-file-not-found", 400
)
INVALID_USER = WebAPIError(208, "User does not exist.", "user-invalid", 400)
REPO_NOT_IMPLEMENTED = WebAPIError(
    209,
    "The specified repository is not able to perform this action.",
    "repository-request-not-supported",
    501,
)
REPO_INFO_ERROR = WebAPIError(
    210,
    "There was an error communicating with this repository.",
    "repository-communication-error",
    500,
)
NOTHING_TO_PUBLISH = WebAPIError(
    211,
    "You attempted to publish a review request without any modifications.",
    "review-request-not-modified",
    400,
)
EMPTY_CHANGESET = WebAPIError(
    212,
    "The commit ID specified represents an empty changeset.",
    "repository-commit-id-changeset-empty",
    400,
)
SERVER_CONFIG_ERROR = WebAPIError(
    213, "There was an error storing configuration on the server.", "server-config-error", 500
)
BAD_HOST_KEY = WebAPIError(
    214, "The SSH key on the host does not match the stored key.", "ssh-host-key-mismatch", 403
)
UNVERIFIED_HOST_KEY = WebAPIError(
    215, "The SSH key on the host is unverified.", "ssh-host-key-not-verified", 403
)
UNVERIFIED_HOST_CERT = WebAPIError(
    216, "The HTTPS certificate on the host is unverified.", "ssl-certificate-not-verified", 403
)
MISSING_USER_KEY = WebAPIError(
    217,
    "A public SSH key was requested, but no SSH key was available to send.",
    "ssh-public-key-missing",
    403,
)
REPO_AUTHENTICATION_ERROR = WebAPIError(
    218,
    "Unable to authenticate with the repository using the provided credentials.",
    "repository-auth-error",
    403,
)
DIFF_EMPTY = WebAPIError(219, "The specified diff file is empty.", "diff-empty", 400)
DIFF_TOO_BIG = WebAPIError(220, "The specified diff file is too large.", "diff-too-large", 400)
FILE_RETRIEVAL_ERROR = WebAPIError(
    221, "There was an error fetching a source file.", "repository-file-error", 500
)
HOSTINGSVC_AUTH_ERROR = WebAPIError(
    222, "There was an error authorizing with a service.", "hosting-service-auth-error", 403
)
GROUP_ALREADY_EXISTS = WebAPIError(
    223, "A group with this name already exists.", "review-group-conflict", 409
)
DIFF_PARSE_ERROR = WebAPIError(
    224, "The specified diff file could not be parsed.", "diff-parse-error", 400
)
PUBLISH_ERROR = WebAPIError(
    225, "An error occurred during publishing.", "review-request-publish-error", 500
)
USER_QUERY_ERROR = WebAPIError(
    226, "An error occurred querying the user list.", "user-query-error", 500
)
# Upstream's message is a one-element tuple by mistake; rbapi sends the plain string (spec
# README, precedence 3).
COMMIT_ID_ALREADY_EXISTS = WebAPIError(
    227,
    "Review request with this commit ID already exists.",
    "review-request-commit-id-conflict",
    409,
)
TOKEN_GENERATION_FAILED = WebAPIError(
    228,
    "There was an error generating the API token. Please try again.",
    "api-token-generation-error",
    500,
)
REPOSITORY_ALREADY_EXISTS = WebAPIError(
    229, "A repository with this name already exists.", "repository-conflict", 409
)
CLOSE_ERROR = WebAPIError(
    230,
    "An error occurred while closing the review request.",
    "review-request-close-error",
    500,
)
REOPEN_ERROR = WebAPIError(
    231,
    "An error occurred while reopening the review request.",
    "review-request-reopen-error",
    500,
)
REVOKE_SHIP_IT_ERROR = WebAPIError(
    232,
    "An error occurred while revoking the Ship It for a review.",
    "review-request-revoke-ship-it-error",
    500,
)
READ_ONLY_ERROR = WebAPIError(
    233, "The site is currently in read-only mode.", "server-read-only", 503
)
INVALID_GROUP = WebAPIError(234, "Group does not exist.", "review-group-invalid", 400)

# --- rbapi additions (never sent where the original sends something else) -------------------
# The original answers a disallowed method with an empty HTML 405; rbapi keeps the status and
# the Allow header and adds a JSON body (spec README, precedence 3).
METHOD_NOT_ALLOWED = WebAPIError(
    900, "The method is not allowed on this resource.", "request-method-not-allowed", 405
)
# SQLite's write lock was not free within the busy timeout: try again shortly.
SERVICE_BUSY = WebAPIError(
    901, "The server is busy. Please try again shortly.", "server-busy", 503, {"Retry-After": "1"}
)
# An unexpected server fault, still in the API's envelope.
SERVER_ERROR = WebAPIError(902, "An internal server error occurred.", "server-error", 500)
# A body over DATA_UPLOAD_MAX_MEMORY_SIZE (Django refuses to read it).
REQUEST_TOO_LARGE = WebAPIError(903, "The request body is too large.", "request-too-large", 413)
# If-Match named a version that is no longer current (rbapi.preconditions).
PRECONDITION_FAILED = WebAPIError(
    910,
    "The object has changed since you fetched it (If-Match did not match).",
    "request-precondition-failed",
    412,
)
# An Idempotency-Key reused with another URL or body (rbapi.idempotency).
IDEMPOTENCY_KEY_REUSED = WebAPIError(
    911,
    "This Idempotency-Key was already used with a different request.",
    "request-idempotency-key-reused",
    422,
)

ALL_ERRORS: dict[int, WebAPIError] = {
    value.code: value for value in list(globals().values()) if isinstance(value, WebAPIError)
}


class WebAPIException(Exception):
    """Raised anywhere in a request to answer with an error envelope.

    ``fields`` becomes the top-level ``fields`` of a 105; ``extra`` adds other top-level keys
    (e.g. ``repository`` on 206, ``draft`` on draft validation errors).
    """

    def __init__(
        self,
        error: WebAPIError,
        msg: str | None = None,
        *,
        fields: dict[str, list[str] | str] | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.error = error.with_message(msg) if msg is not None else error
        self.fields = fields
        self.extra = extra or {}
        self.headers = {**self.error.headers, **(headers or {})}
        super().__init__(self.error.msg)

    def payload(self) -> dict[str, Any]:
        """The body of the error response, without ``stat`` (the renderer adds it)."""
        data: dict[str, Any] = {
            "err": {
                "code": self.error.code,
                "msg": self.error.msg,
                "type": self.error.error_type,
            }
        }
        if self.fields is not None:
            data["fields"] = self.fields
        data.update(self.extra)
        return data


def form_error(fields: dict[str, list[str] | str], **extra: Any) -> WebAPIException:
    """Error 105 with the given per-field messages."""
    return WebAPIException(INVALID_FORM_DATA, fields=fields, extra=extra)
