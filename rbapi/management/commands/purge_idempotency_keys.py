"""Delete the Idempotency-Key rows older than 24 hours.

Expired keys are already ignored and each user's are purged at that user's next keyed POST;
this command (from cron, say) also clears the keys of users who never come back.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from rbapi.idempotency import purge_expired


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than 24 hours."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{purge_expired()} expired idempotency keys deleted")
