"""Print the API's OpenAPI 3 schema, generated from the resource registry (``rbapi.schema``).

The same document ``/api/schema/`` serves, for CI and offline tooling (schemathesis, code
generators) that should not need a running server.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from rbapi.schema import schema_json, schema_yaml


class Command(BaseCommand):
    help = "Print the OpenAPI 3 schema of the API (JSON, or YAML with --format yaml)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=("json", "yaml"), default="json")
        parser.add_argument("--file", help="Write to this file instead of standard output.")

    def handle(self, *args: Any, **options: Any) -> None:
        text = (schema_yaml() if options["format"] == "yaml" else schema_json()).decode()
        if options.get("file"):
            with open(options["file"], "w", encoding="utf-8") as out:
                out.write(text)
        else:
            self.stdout.write(text)
