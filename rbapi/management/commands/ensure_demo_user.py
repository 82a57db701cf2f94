"""Create the demo administrator, only on a database that has no user at all.

``bin/serve`` runs this at every start. It never touches an existing account: a changed
password survives a restart, and a database with real users gets no ``admin/admin``.
"""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = (
        "Create the demo superuser (RBAPI_DEMO_USERNAME / RBAPI_DEMO_PASSWORD, admin/admin) "
        "when the database has no user yet."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        username = os.environ.get("RBAPI_DEMO_USERNAME", "admin")
        password = os.environ.get("RBAPI_DEMO_PASSWORD", "admin")
        users = get_user_model().objects
        with transaction.atomic():
            if users.exists():
                self.stdout.write("users exist: demo user not created (accounts left as they are)")
                return
            users.create_superuser(
                username=username, email=f"{username}@example.com", password=password
            )
        self.stdout.write(f"demo user created: username={username} password={password}")
