"""Create (or reset) the demo administrator and print its credentials."""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the demo superuser (RBAPI_DEMO_USERNAME / RBAPI_DEMO_PASSWORD, admin/admin)."

    def handle(self, *args: Any, **options: Any) -> None:
        username = os.environ.get("RBAPI_DEMO_USERNAME", "admin")
        password = os.environ.get("RBAPI_DEMO_PASSWORD", "admin")
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.com"}
        )
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()
        verb = "created" if created else "reset"
        self.stdout.write(f"demo user {verb}: username={username} password={password}")
