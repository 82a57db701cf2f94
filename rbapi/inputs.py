"""Input serializer fields that read form values the Review Board way."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from rbapi.parsers import parse_bool


class RBBooleanField(serializers.Field):
    """A Review Board boolean form value: ``1``/``true`` in any case is true."""

    def to_internal_value(self, data: Any) -> bool:
        return parse_bool(data)

    def to_representation(self, value: bool) -> bool:
        return bool(value)
