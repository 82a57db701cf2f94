"""The one input idiom: DRF serializer fields that read form values and answer in Review
Board's words.

Every writable resource declares an ``RBSerializer`` of these fields; ``is_valid(
raise_exception=True)`` collects every bad field at once, and the exception handler turns the
``ValidationError`` into error 105 with ``fields``. Values arrive as strings (a ``QueryDict``:
forms, and JSON bodies, which ``rbapi.parsers`` flattens the same way) or, when a serializer is
used directly, as JSON types; every field accepts both.

Two deliberate departures from DRF's stock fields:

* a field present with an empty value is *present*: DRF's HTML-form rule drops ``""`` for
  optional fields, but Review Board reads ``visible=`` as false and ``timeout=`` as "no
  timeout" (and a JSON ``false``/``null`` arrives as ``""``);
* messages are Review Board's: ``This field is required``, ``"x" is not an integer``,
  ``"x" is not a valid value. Valid values are: ...``, ``Ensure this value has at most N
  characters (it has M).`` (Django's own ``MaxLengthValidator`` message).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.core.validators import MaxLengthValidator
from django.db.models import Model, QuerySet
from rest_framework import serializers
from rest_framework.fields import empty

from core.errors import InvalidFieldsError
from core.extra_data import JSON_FIELD, JSON_PATCH_FIELD, KEY_PREFIX, apply_extra_data_changes
from rbapi.fields import choice_message
from rbapi.parsers import MAX_ID, as_id, parse_bool, parse_comma_list

REQUIRED = "This field is required"
_INTEGER = re.compile(r"^[-+]?[0-9]{1,30}$")
_RB_MESSAGES = {"required": REQUIRED, "blank": REQUIRED, "null": REQUIRED}


class RBFieldMixin:
    """Review Board's reading of a form value, shared by every field here."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["error_messages"] = {**_RB_MESSAGES, **kwargs.get("error_messages", {})}
        super().__init__(*args, **kwargs)

    def get_value(self, dictionary: Mapping[str, Any]) -> Any:
        # Present-but-empty stays present (see the module docstring); a QueryDict yields its
        # last value for the name, as Django forms do.
        if self.field_name not in dictionary:
            return empty
        return dictionary[self.field_name]

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        # A blank value of a nullable, non-text field means "none" (``timeout=``, ``change_id=``).
        if (
            getattr(self, "allow_null", False)
            and not isinstance(self, serializers.CharField)
            and isinstance(data, str)
            and not data.strip()
        ):
            data = None
        return super().validate_empty_values(data)


class CharField(RBFieldMixin, serializers.CharField):
    """Text, stripped; ``max_length`` counts after stripping and fails in Django's words."""

    def __init__(self, *, max_length: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if max_length is not None:
            self.validators.append(MaxLengthValidator(max_length))


class IntegerField(RBFieldMixin, serializers.Field):
    """An integer within ``min_value``..``max_value`` (64-bit by default); anything else is
    ``"x" is not an integer``, as Review Board says even for an out-of-range number."""

    def __init__(
        self, *, min_value: int = -MAX_ID, max_value: int = MAX_ID, **kwargs: Any
    ) -> None:
        self.min_value, self.max_value = min_value, max_value
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        text = str(data).strip()
        # ASCII digits only: ``int()`` would also take "٣" or "1_000".
        number = int(text) if _INTEGER.match(text) and not isinstance(data, bool | float) else None
        if number is None or not self.min_value <= number <= self.max_value:
            raise serializers.ValidationError(f'"{text}" is not an integer')
        return number

    def to_representation(self, value: int) -> int:
        return value


class BooleanField(RBFieldMixin, serializers.Field):
    """``1``/``true`` in any case (or JSON ``true``) is true; anything else, even ``""``, is
    false (``rbapi.parsers.parse_bool``)."""

    def to_internal_value(self, data: Any) -> bool:
        return parse_bool(data)

    def to_representation(self, value: bool) -> bool:
        return bool(value)


class ChoiceField(RBFieldMixin, serializers.Field):
    """One of ``choices`` (listed in the error in the order given, as Review Board does)."""

    def __init__(self, choices: Sequence[str], **kwargs: Any) -> None:
        self.choices = tuple(choices)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = str(data)
        if value not in self.choices:
            raise serializers.ValidationError(choice_message(value, self.choices))
        return value

    def to_representation(self, value: str) -> str:
        return value


class CommaListField(RBFieldMixin, serializers.Field):
    """``"a, b"`` (or a JSON array, or a list) -> ``["a", "b"]``."""

    def to_internal_value(self, data: Any) -> list[str]:
        if isinstance(data, list | tuple):
            return [str(item).strip() for item in data if str(item).strip()]
        return parse_comma_list(str(data))

    def to_representation(self, value: list[str]) -> list[str]:
        return list(value)


class RelatedField(RBFieldMixin, serializers.Field):
    """An object named by ID (or by ``lookup``, e.g. a username) among ``queryset``; anything
    else fails with ``message``. ``queryset`` may be a callable taking the serializer's
    context, for choices that depend on the request (the review request, the user)."""

    def __init__(
        self,
        *,
        queryset: QuerySet | Callable[[dict[str, Any]], QuerySet],
        message: str,
        lookup: str = "pk",
        **kwargs: Any,
    ) -> None:
        self.queryset, self.message, self.lookup = queryset, message, lookup
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet:
        queryset = self.queryset
        return queryset(self.context) if callable(queryset) else queryset.all()

    def to_internal_value(self, data: Any) -> Model:
        text = str(data).strip()
        key = as_id(text) if self.lookup == "pk" else text
        found = self.get_queryset().filter(**{self.lookup: key}).first() if key else None
        if found is None:
            raise serializers.ValidationError(self.message.format(value=text))
        return found

    def to_representation(self, value: Model) -> Any:
        return value.pk


def extra_data_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """The request's ``extra_data.*``, ``extra_data:json`` and ``extra_data:json-patch``
    fields, to hand to a service, which applies them to the row it has locked."""
    return {
        str(name): data[name]
        for name in data
        if name in (JSON_FIELD, JSON_PATCH_FIELD) or str(name).startswith(KEY_PREFIX)
    }


def _shallow_copy(field: serializers.Field) -> serializers.Field:
    """``copy.copy(field)`` without the copy protocol's detour (four times slower)."""
    clone = object.__new__(type(field))
    clone.__dict__.update(field.__dict__)
    return clone


class RBSerializer(serializers.Serializer):
    """Base input serializer. With ``extra_data = True`` it also checks the request's
    extra_data fields against ``context["extra_data"]`` (the stored value, ``{}`` when
    creating) and returns them as ``validated_data["extra_data_fields"]`` (``None`` when the
    request has none), so one 105 names every bad field, extra_data included."""

    #: Whether the resource accepts the extra_data forms.
    extra_data = False

    def get_fields(self) -> dict[str, serializers.Field]:
        """Each declared field, copied for this serializer to bind. DRF deep-copies them,
        which runs every field's ``__init__`` again and costs more than validating a CI bot's
        whole form; the fields here keep no state but what ``bind`` sets on the copy, so a
        shallow copy is enough (a nested serializer still gets a deep one)."""
        return {
            name: copy.deepcopy(field)
            if isinstance(field, serializers.BaseSerializer)
            else _shallow_copy(field)
            for name, field in self._declared_fields.items()
        }

    def to_internal_value(self, data: Mapping[str, Any]) -> dict[str, Any]:
        problems: dict[str, Any] = {}
        try:
            values = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            problems.update(exc.detail)
            values = {}
        if self.extra_data:
            fields = extra_data_fields(data) or None
            if fields:
                try:
                    apply_extra_data_changes(self.context.get("extra_data") or {}, fields)
                except InvalidFieldsError as exc:
                    problems.update(exc.fields or {})
            values["extra_data_fields"] = fields
        if problems:
            raise serializers.ValidationError(problems)
        return values


def validated(
    serializer_class: type[RBSerializer],
    data: Mapping[str, Any],
    *,
    partial: bool = False,
    **context: Any,
) -> dict[str, Any]:
    """Validate ``data`` (error 105 naming every bad field) and return the values."""
    serializer = serializer_class(data=data, partial=partial, context=context)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def validation_problems(
    serializer_class: type[RBSerializer], data: Mapping[str, Any], **context: Any
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The values of ``data`` and its bad fields, returned rather than raised, for resources
    that report them in one error 105 together with problems found outside the serializer
    (a missing upload, a committer the repository's tool needs)."""
    try:
        return validated(serializer_class, data, **context), {}
    except Exception as exc:
        detail = getattr(exc, "detail", None)
        if not isinstance(detail, dict):
            raise
        return {}, {key: list(value) for key, value in detail.items()}
