"""Repository administration: create, update, delete or archive.

Two callers: the ``add_repository``/``archive_repository`` management commands, and the API
(admins' POST/PUT/DELETE, spec: code-and-files.md §1). Names are unique (a database constraint
decides between racing writers: ``RepositoryNameTakenError``, error 229). The commands also keep
the paths of repositories in use unique, because RBTools finds "its" repository by path; the API
follows Review Board, which lets two repositories share a path. A Git repository made through
the API must be a local Git repository (``RepositoryPathError``, error 210), checked with git
before any transaction opens. Archiving keeps a repository's review requests: the command hides
it (``archived``, not ``visible``); the API's DELETE of a used repository renames it
``ar:<name>:<hex time>`` and makes it private, as Review Board does.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, TypedDict

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q

from core.extra_data import apply_extra_data_changes
from core.transactions import write_transaction
from diffs import git
from reviews.models import Group, Repository, ReviewRequest

# Review Board's SCM tool names, by the lower-case spelling a command line accepts.
TOOLS = {
    "git": "Git",
    "mercurial": "Mercurial",
    "subversion": "Subversion",
    "perforce": "Perforce",
    "none": "None",
}
NAME_MAX = Repository._meta.get_field("name").max_length
PATH_MAX = Repository._meta.get_field("path").max_length


#: The tools a repository can be created with through the API, by display name: Git on a
#: local path, and "None" for review requests that carry plain diffs of no repository.
API_TOOLS = ("Git", "None")
#: Review Board's tool ids of those, for the root's ``scmtools.supported_tools``.
API_TOOL_IDS = ("git",)
ARCHIVE_PREFIX = "ar:"


class RepositoryError(ValueError):
    """A repository change refused, with a message meant for the administrator."""


class RepositoryNameTakenError(RepositoryError):
    """Another repository has this name."""


class RepositoryPathError(RepositoryError):
    """The path is not a repository the tool can read."""


class RepositoryValues(TypedDict, total=False):
    """The stored fields an API create or update may set."""

    name: str
    path: str
    mirror_path: str
    tool: str
    bug_tracker: str
    visible: bool
    public: bool


def check_repository_path(*, tool: str, path: str) -> None:
    """Raise ``RepositoryPathError`` unless ``tool`` can read the repository at ``path``
    (only Git checks anything: "None" has no repository behind it)."""
    if tool != "Git":
        return
    try:
        git.check_repository(path)
    except git.GitError as exc:
        raise RepositoryPathError(str(exc) or "Not a Git repository.") from None


def _check_text(label: str, value: str, limit: int, *, required: bool) -> str:
    value = value.strip()
    if required and not value:
        raise RepositoryError(f"The {label} must not be empty.")
    if len(value) > limit:
        raise RepositoryError(f"The {label} is longer than {limit} characters.")
    if "\x00" in value:
        raise RepositoryError(f"The {label} must not contain NUL characters.")
    return value


def repository_create(
    *,
    name: str,
    path: str,
    tool: str = "git",
    public: bool = True,
    visible: bool = True,
    mirror_path: str = "",
    bug_tracker: str = "",
    usernames: Sequence[str] = (),
    group_names: Sequence[str] = (),
) -> Repository:
    """Add a repository; ``usernames`` and ``group_names`` may see it when it is private.
    Refuses (``RepositoryError``) a taken name, a path in use, an unknown tool, user or group."""
    name = _check_text("name", name, NAME_MAX, required=True)
    path = _check_text("path", path, PATH_MAX, required=True)
    mirror_path = _check_text("mirror path", mirror_path, PATH_MAX, required=False)
    bug_tracker = _check_text("bug tracker URL", bug_tracker, 256, required=False)
    canonical_tool = TOOLS.get(tool.strip().lower())
    if canonical_tool is None:
        raise RepositoryError(f"Unknown tool {tool!r}: use one of {', '.join(TOOLS)}.")
    users = list(get_user_model().objects.filter(username__in=usernames))
    missing = sorted(set(usernames) - {user.get_username() for user in users})
    if missing:
        raise RepositoryError(f"No such user: {', '.join(missing)}.")
    groups = list(Group.objects.filter(name__in=group_names))
    missing = sorted(set(group_names) - {group.name for group in groups})
    if missing:
        raise RepositoryError(f"No such review group: {', '.join(missing)}.")
    try:
        with transaction.atomic():
            if Repository.objects.filter(name=name).exists():
                raise RepositoryNameTakenError(f"A repository named {name!r} already exists.")
            paths = [value for value in (path, mirror_path) if value]
            clash = (
                Repository.objects.filter(archived=False)
                .filter(Q(path__in=paths) | Q(mirror_path__in=paths))
                .first()
            )
            if clash is not None:
                raise RepositoryError(
                    f"The repository {clash.name!r} already uses that path; archive it first."
                )
            repository = Repository.objects.create(
                name=name,
                path=path,
                mirror_path=mirror_path,
                tool=canonical_tool,
                bug_tracker=bug_tracker,
                public=public,
                visible=visible,
            )
            repository.users.set(users)
            repository.review_groups.set(groups)
    except IntegrityError:
        # Another writer took the name between our check and our insert.
        raise RepositoryNameTakenError(f"A repository named {name!r} already exists.") from None
    return repository


def find_repository(name_or_id: str) -> Repository:
    """The repository with this name, or else this numeric ID."""
    repository = Repository.objects.filter(name=name_or_id).first()
    if repository is None and name_or_id.isdigit():
        repository = Repository.objects.filter(pk=int(name_or_id)).first()
    if repository is None:
        raise RepositoryError(f"No repository named {name_or_id!r}.")
    return repository


def repository_archive(*, repository_id: int) -> tuple[Repository, bool]:
    """Archive (and hide) a repository; returns it and whether it changed (archiving an
    archived repository changes nothing)."""
    with transaction.atomic():
        repository = Repository.objects.select_for_update().get(pk=repository_id)
        if repository.archived:
            return repository, False
        repository.archived = True
        repository.visible = False
        repository.save(update_fields=["archived", "visible"])
    return repository, True


def _archived_name(name: str) -> str:
    """Review Board's archived name, ``ar:<name>:<hex unix time>``, within the column."""
    suffix = f":{int(time.time()):x}"
    return ARCHIVE_PREFIX + name[: NAME_MAX - len(ARCHIVE_PREFIX) - len(suffix)] + suffix


def _save(repository: Repository, **kwargs: Any) -> Repository:
    if Repository.objects.filter(name=repository.name).exclude(pk=repository.pk).exists():
        raise RepositoryNameTakenError(repository.name)
    try:
        # A savepoint, so a lost race on the name leaves the outer transaction usable.
        with transaction.atomic():
            repository.save(**kwargs)
    except IntegrityError:
        raise RepositoryNameTakenError(repository.name) from None
    return repository


@write_transaction
def _insert(values: RepositoryValues, extra_data_fields: dict[str, Any] | None) -> Repository:
    repository = Repository(**values)
    repository.extra_data = apply_extra_data_changes({}, extra_data_fields or {})
    return _save(repository)


def repository_add(
    *, values: RepositoryValues, extra_data_fields: dict[str, Any] | None = None
) -> Repository:
    """Create a repository through the API (an admin's POST): its tool must be able to read
    its path (``RepositoryPathError``), its name free (``RepositoryNameTakenError``)."""
    check_repository_path(tool=values.get("tool", "Git"), path=values.get("path", ""))
    return _insert(values, extra_data_fields)


@write_transaction
def _update(
    repository_id: int,
    values: RepositoryValues,
    extra_data_fields: dict[str, Any] | None,
    archive_name: bool,
) -> Repository:
    locked = Repository.objects.select_for_update().get(pk=repository_id)
    for name, value in values.items():
        setattr(locked, name, value)
    fields = list(values)
    if archive_name and not locked.name.startswith(ARCHIVE_PREFIX):
        locked.name = _archived_name(locked.name)
        fields.append("name")
    if extra_data_fields:
        locked.extra_data = apply_extra_data_changes(locked.extra_data, extra_data_fields)
        fields.append("extra_data")
    if not fields:
        return locked
    return _save(locked, update_fields=sorted(set(fields)))


def repository_update(
    *,
    repository: Repository,
    values: RepositoryValues,
    extra_data_fields: dict[str, Any] | None = None,
    archive_name: bool = False,
) -> Repository:
    """Change the named fields of a repository (an admin's PUT) and return it as stored.

    A new tool or path is checked against the repository, as on creation (Review Board skips
    the check when only the path changes, and so stores paths nothing can read);
    ``archive_name`` renames it ``ar:<name>:<hex time>``, freeing the name."""
    if "tool" in values or "path" in values:
        check_repository_path(
            tool=values.get("tool", repository.tool), path=values.get("path", repository.path)
        )
    return _update(repository.pk, values, extra_data_fields, archive_name)


@write_transaction
def repository_delete(*, repository: Repository) -> bool:
    """Delete a repository no review request uses; archive one that is used (renamed, made
    private, its review requests kept). Returns whether it was deleted."""
    locked = Repository.objects.select_for_update().get(pk=repository.pk)
    if not ReviewRequest.objects.filter(repository=locked).exists():
        locked.delete()
        return True
    locked.name = _archived_name(locked.name)
    locked.public = False
    locked.archived = True
    _save(locked, update_fields=["name", "public", "archived"])
    return False


@write_transaction
def repository_access_grant(
    *, repository: Repository, user: Any = None, group: Group | None = None
) -> None:
    """Let ``user`` (or the members of ``group``) see the private repository; granting twice
    changes nothing."""
    if user is not None:
        repository.users.add(user)
    if group is not None:
        repository.review_groups.add(group)


@write_transaction
def repository_access_revoke(
    *, repository: Repository, user: Any = None, group: Group | None = None
) -> None:
    """Take back what ``repository_access_grant`` gave."""
    if user is not None:
        repository.users.remove(user)
    if group is not None:
        repository.review_groups.remove(group)
