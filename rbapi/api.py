"""Imports every resource module so that each registers itself in the resource registry."""

from rbapi import info, root, session, users  # noqa: F401
from reviews.resources import groups, repositories  # noqa: F401
