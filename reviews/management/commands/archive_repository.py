"""``manage.py archive_repository NAME`` (``rbapi archive_repository``): retire a repository.
It disappears from repository lists (``archived``, not ``visible``) and its path is free for a
successor; its review requests stay, and its item URL keeps answering."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reviews.services.repositories import RepositoryError, find_repository, repository_archive


class Command(BaseCommand):
    help = "Archive a repository: hide it from lists and free its path."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("repository", help="the repository's name (or numeric ID)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            repository = find_repository(options["repository"])
        except RepositoryError as error:
            raise CommandError(str(error)) from None
        repository, changed = repository_archive(repository_id=repository.pk)
        if changed:
            self.stdout.write(f"Archived repository {repository.pk}: {repository.name}")
        else:
            self.stdout.write(
                f"Repository {repository.pk} ({repository.name}) was already archived"
            )
