"""``manage.py add_repository NAME PATH`` (``rbapi add_repository``): register a repository
that review requests can be posted against. The API serves repositories read-only, as Review
Board's does, so this is how an administrator adds one."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reviews.services.repositories import TOOLS, RepositoryError, repository_create


class Command(BaseCommand):
    help = "Add a repository (RBTools finds it by its path or mirror path)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="unique name, shown to users and used by RBTools")
        parser.add_argument("path", help="the repository's path or URL, as clients see it")
        parser.add_argument(
            "--tool",
            default="git",
            type=str.lower,
            choices=sorted(TOOLS),
            help="the version control system (default: git)",
        )
        parser.add_argument("--mirror-path", default="", help="another path clients may use")
        parser.add_argument("--bug-tracker", default="", help="bug URL, with %%s for the ID")
        access = parser.add_mutually_exclusive_group()
        access.add_argument(
            "--public", dest="public", action="store_true", default=True, help="(default)"
        )
        access.add_argument(
            "--private",
            dest="public",
            action="store_false",
            help="only --user/--group members and superusers may see it",
        )
        parser.add_argument(
            "--hidden", action="store_true", help="leave it out of repository lists"
        )
        parser.add_argument(
            "--user",
            dest="users",
            action="append",
            default=[],
            metavar="USERNAME",
            help="a user who may see a private repository (repeatable)",
        )
        parser.add_argument(
            "--group",
            dest="groups",
            action="append",
            default=[],
            metavar="GROUP",
            help="a review group whose members may see a private repository (repeatable)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            repository = repository_create(
                name=options["name"],
                path=options["path"],
                tool=options["tool"],
                public=options["public"],
                visible=not options["hidden"],
                mirror_path=options["mirror_path"],
                bug_tracker=options["bug_tracker"],
                usernames=options["users"],
                group_names=options["groups"],
            )
        except RepositoryError as error:
            raise CommandError(str(error)) from None
        access = "public" if repository.public else "private"
        self.stdout.write(
            f"Added repository {repository.pk}: {repository.name} ({repository.tool}, {access})"
            f" at {repository.path}"
        )
