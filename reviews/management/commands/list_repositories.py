"""``manage.py list_repositories`` (``rbapi list_repositories``): what an administrator has,
including private and hidden repositories the API would not show everyone."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from reviews.models import Repository

COLUMNS = ("id", "name", "tool", "access", "state", "path")


class Command(BaseCommand):
    help = "List repositories (archived ones only with --archived)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--archived", action="store_true", help="include archived ones")
        parser.add_argument("--json", action="store_true", help="one JSON array, for scripts")

    def handle(self, *args: Any, **options: Any) -> None:
        queryset = Repository.objects.order_by("name")
        if not options["archived"]:
            queryset = queryset.filter(archived=False)
        rows = [
            {
                "id": repo.pk,
                "name": repo.name,
                "tool": repo.tool,
                "access": "public" if repo.public else "private",
                "state": "archived"
                if repo.archived
                else ("visible" if repo.visible else "hidden"),
                "path": repo.path,
                "mirror_path": repo.mirror_path,
            }
            for repo in queryset
        ]
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        if not rows:
            self.stdout.write("No repositories.")
            return
        table = [COLUMNS, *[tuple(str(row[column]) for column in COLUMNS) for row in rows]]
        widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS) - 1)]
        for line in table:
            cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=False)]
            self.stdout.write("  ".join([*cells, line[-1]]).rstrip())
