"""DRF's ``generateschema``, replaced: DRF's generator cannot describe these resources.

DRF introspects serializers and generic views; a resource here is one ``APIView`` mounted for
its list and its item, answering its declared fields in Review Board's envelope, so DRF's
schema would be wrong (and it crashed without ``inflection``). This command prints the
registry's schema instead, saying so on standard error, with the options of ``schema``.
"""

from __future__ import annotations

from typing import Any

from rbapi.management.commands import schema


class Command(schema.Command):
    help = (
        "Print the API's OpenAPI schema generated from the resource registry (DRF's "
        "generator does not apply here; same as `manage.py schema`)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stderr.write(
            "generateschema: DRF's generator cannot describe rbapi's resources; printing the "
            "registry's schema (the one served at /api/schema/; also `manage.py schema`)."
        )
        super().handle(*args, **options)
