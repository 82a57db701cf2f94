"""The extensions rbapi answers for under ``/api/extensions/``.

Review Board lists the extensions installed on the server; rbapi has no plug-in loader, so the
list is what rbapi itself serves in an extension's name. Today that is Review Bot: its worker
looks the extension up by class name and posts its reviews to the extension's own resource
(spec: code-and-files.md §12, clients.md §3.2), which rbapi serves as a compatibility shim
(``extensions.resources``). ``RBAPI_REVIEW_BOT_EXTENSION = False`` takes it away, and the
worker then gets what it gets from a Review Board without the extension: 100/404.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

REVIEW_BOT_CLASS_NAME = "reviewbotext.extension.ReviewBotExtension"


@dataclass(frozen=True)
class Extension:
    """One extension as the API shows it. ``resources`` names the registered API resources
    mounted under it (their links appear in its item)."""

    class_name: str
    name: str
    summary: str
    version: str
    author: str | None = None
    author_url: str | None = None
    resources: tuple[str, ...] = ()
    # What is listed is installed, loaded and enabled, and stays so: rbapi switches its
    # extensions in its settings, never at run time.
    installed: bool = True
    loadable: bool = True
    load_error: str | None = None
    enabled: bool = True
    can_enable: bool = False
    can_disable: bool = False

    @property
    def pk(self) -> str:
        # The URL key, and what API token policies name.
        return self.class_name


REVIEW_BOT = Extension(
    class_name=REVIEW_BOT_CLASS_NAME,
    name="Review Bot",
    summary=(
        "Review Bot's review resource, served by rbapi so that an unmodified Review Bot "
        "worker can publish the reviews of its code checkers."
    ),
    # The Review Bot release whose worker this resource was checked against.
    version="4.1",
    resources=("review_bot_review",),
)


def installed_extensions() -> list[Extension]:
    """The extensions listed, in class-name order (as Review Board sorts them)."""
    found = []
    if settings.RBAPI_REVIEW_BOT_EXTENSION:
        found.append(REVIEW_BOT)
    return sorted(found, key=lambda extension: extension.class_name)


def get_extension(class_name: str) -> Extension | None:
    """The installed extension of that class name, or None."""
    for extension in installed_extensions():
        if extension.class_name == class_name:
            return extension
    return None
