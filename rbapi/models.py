"""rbapi's own tables: only what the web layer itself must remember.

``IdempotencyKey`` remembers the first successful answer to a POST sent with an
``Idempotency-Key`` header, so a CI bot that retries after a timeout gets that answer again
instead of creating a second object (see ``rbapi.idempotency``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models


class IdempotencyKey(models.Model):
    """One key of one user: the request it was first used with and the answer it got.

    The row is inserted before the write it guards and filled in by the same transaction,
    so it is committed together with the object the POST created, or not at all.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # The request's fingerprint: a reuse with another URL or body is refused.
    method = models.CharField(max_length=10)
    path = models.TextField()
    request_sha256 = models.CharField(max_length=64)
    # The answer replayed to a retry.
    status = models.PositiveSmallIntegerField(default=0)
    content_type = models.CharField(max_length=255, blank=True)
    location = models.TextField(blank=True)
    body = models.BinaryField(default=b"")
    created = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="rbapi_idempotency_user_key")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"


class CacheGeneration(models.Model):
    """One row whose ``value`` grows with every committed write (``rbapi.response_cache``).

    A rendered GET answer is cached under the generation read before its data was read; any
    write moves the generation on, so no cached answer outlives the data it shows. It lives in
    the database so that every process and machine sharing the data shares it too.
    """

    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.value)


class UserSession(AbstractBaseSession):
    """A login session that also names its user, so that reading the session joins the user
    (``rbapi.session_store``): one query where Django's own sessions take two. Deleting the
    user deletes their sessions."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )

    @classmethod
    def get_session_store_class(cls) -> type:
        from rbapi.session_store import SessionStore

        return SessionStore

    class Meta(AbstractBaseSession.Meta):
        db_table = "rbapi_session"
