"""``rbapi.inputs``: the serializer fields speak Review Board's messages, for form strings
(QueryDict) and JSON types alike, and a serializer's errors become one 105."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.http import QueryDict
from rest_framework.exceptions import ValidationError

from rbapi import inputs
from rbapi.exceptions import to_webapi_exception

User = get_user_model()


class Sample(inputs.RBSerializer):
    extra_data = True

    name = inputs.CharField(max_length=5)
    count = inputs.IntegerField(required=False, allow_null=True, min_value=0)
    flag = inputs.BooleanField(required=False)
    state = inputs.ChoiceField(("pending", "done"), required=False)
    tags = inputs.CommaListField(required=False)
    owner = inputs.RelatedField(
        queryset=User.objects.all(),
        lookup="username",
        message='The user "{value}" does not exist.',
        required=False,
    )


def errors_of(data, **kwargs) -> dict:
    with pytest.raises(ValidationError) as info:
        inputs.validated(Sample, data, **kwargs)
    return to_webapi_exception(info.value, {}).payload()["fields"]


def test_messages_are_review_boards():
    data = QueryDict(mutable=True)
    data.update({"name": "  toolong ", "count": "x1", "state": "nope", "extra_data:json": "{"})
    assert errors_of(data) == {
        "name": ["Ensure this value has at most 5 characters (it has 7)."],
        "count": ['"x1" is not an integer'],
        "state": ['"nope" is not a valid value. Valid values are: "pending", "done"'],
        "extra_data": [
            "Could not parse JSON data: Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1)"
        ],
    }


@pytest.mark.parametrize("data", [{}, {"name": ""}, {"name": "   "}])
def test_required(data):
    assert errors_of(data) == {"name": ["This field is required"]}


def test_partial_skips_required():
    assert inputs.validated(Sample, {}, partial=True) == {"extra_data_fields": None}


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1", True),
        ("TRUE", True),
        ("true", True),
        (True, True),
        ("", False),
        ("0", False),
        ("yes", False),
        (False, False),
    ],
)
def test_booleans(raw, value):
    assert inputs.validated(Sample, {"name": "a", "flag": raw})["flag"] is value


def test_empty_value_is_present_and_blank_integer_is_none():
    """``flag=`` is false (DRF would drop it) and ``count=`` clears the value."""
    data = QueryDict("name=a&flag=&count=")
    assert inputs.validated(Sample, data) == {
        "name": "a",
        "flag": False,
        "count": None,
        "extra_data_fields": None,
    }


@pytest.mark.parametrize("raw", ["-1", "1.5", "9" * 30, 1.5, True])
def test_integer_out_of_range_or_not_integral(raw):
    assert errors_of({"name": "a", "count": raw}) == {"count": [f'"{raw}" is not an integer']}


def test_json_types_and_lists():
    values = inputs.validated(Sample, {"name": "a", "count": 3, "tags": ["x", " y "]})
    assert values["count"] == 3
    assert values["tags"] == ["x", "y"]
    assert inputs.validated(Sample, {"name": "a", "tags": "x, y,,"})["tags"] == ["x", "y"]


def test_related_lookup(db):
    user = User.objects.create_user(username="dopey")
    assert inputs.validated(Sample, {"name": "a", "owner": "dopey"})["owner"] == user
    assert errors_of({"name": "a", "owner": "grumpy"}) == {
        "owner": ['The user "grumpy" does not exist.']
    }


def test_extra_data_fields_are_checked_against_the_stored_value():
    data = {
        "name": "a",
        "extra_data.k": "1",
        "extra_data:json-patch": '[{"op": "remove", "path": "/gone"}]',
    }
    fields = errors_of(data, extra_data={"kept": 1})
    assert list(fields) == ["extra_data"]
    values = inputs.validated(Sample, {"name": "a", "extra_data.k": "1"}, extra_data={})
    assert values["extra_data_fields"] == {"extra_data.k": "1"}


def test_each_serializer_binds_its_own_copies_of_the_fields():
    first = Sample(data={"name": "a"}, context={})
    second = Sample(data={"name": "b"}, context={})
    assert first.fields["name"] is not second.fields["name"]
    assert first.fields["name"].parent is first and second.fields["name"].parent is second
    # The declared fields stay unbound, for the next serializer to copy.
    assert Sample._declared_fields["name"].field_name is None
    assert first.is_valid() and second.is_valid()
    assert (first.validated_data["name"], second.validated_data["name"]) == ("a", "b")
