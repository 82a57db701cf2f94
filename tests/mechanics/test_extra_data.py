"""rbapi.extra_data: private keys, merge patch, JSON patch, dotted keys, errors."""

from __future__ import annotations

import json

import pytest

from rbapi.errors import WebAPIException
from rbapi.extra_data import apply_extra_data_changes, public_extra_data
from reviews.models import Group

from ..conftest import assert_error, assert_ok


def fields_of(exc: WebAPIException) -> dict:
    payload = exc.payload()
    assert payload["err"]["code"] == 105
    return payload["fields"]


def test_private_keys_are_hidden_at_any_depth():
    data = {"a": 1, "__p": 2, "n": {"__q": 3, "r": 4}, "l": [{"__s": 1, "t": 2}], "_one": 5}
    assert public_extra_data(data) == {"a": 1, "n": {"r": 4}, "l": [{"t": 2}], "_one": 5}


def test_dotted_keys_are_typed_and_empty_deletes():
    result = apply_extra_data_changes(
        {"gone": 1, "keep": "x"},
        {
            "extra_data.foo": "1",
            "extra_data.bar": "true",
            "extra_data.baz": "1.5",
            "extra_data.s": "abc",
            "extra_data.f": "False",
            "extra_data.gone": "",
            "extra_data.__priv": "x",
            "other": "y",
        },
    )
    assert result == {"keep": "x", "foo": 1, "bar": True, "baz": 1.5, "s": "abc", "f": False}


def test_merge_patch_skips_private_keys_and_deletes_nulls():
    current = {"a": {"b": 1, "c": 2}, "d": 1, "__secret": "s"}
    patch = {"a": {"b": None, "e": 3}, "d": None, "__p2": 1, "x": {"__y": 1, "z": 2}}
    result = apply_extra_data_changes(current, {"extra_data:json": json.dumps(patch)})
    assert result == {"a": {"c": 2, "e": 3}, "__secret": "s", "x": {"z": 2}}


def test_merge_patch_errors():
    with pytest.raises(WebAPIException) as info:
        apply_extra_data_changes({}, {"extra_data:json": "nope"})
    assert fields_of(info.value) == {
        "extra_data": ["Could not parse JSON data: Expecting value: line 1 column 1 (char 0)"]
    }
    with pytest.raises(WebAPIException) as info:
        apply_extra_data_changes({}, {"extra_data:json": "[1]"})
    assert fields_of(info.value) == {
        "extra_data": ["extra_data:json cannot replace extra_data with a non-dictionary type"]
    }


def test_json_patch_operations():
    patch = [
        {"op": "add", "path": "/a", "value": 1},
        {"op": "replace", "path": "/b", "value": 3},
        {"op": "remove", "path": "/c"},
    ]
    assert apply_extra_data_changes(
        {"b": 2, "c": 1}, {"extra_data:json-patch": json.dumps(patch)}
    ) == {"a": 1, "b": 3}


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (
            [{"op": "add", "path": "/__x", "value": 1}],
            'Failed to patch JSON data: Cannot write to path "/__x" for patch entry 0',
        ),
        ([{"path": "/a"}], 'Failed to patch JSON data: Missing key "op" for patch entry 0'),
        (
            {"op": "add"},
            "Failed to patch JSON data: The patch must be a list of operations to perform",
        ),
        (
            [{"op": "test", "path": "/a", "value": 2}],
            'Failed to patch JSON data: Test failed for path "/a" for patch entry 0',
        ),
        (
            [{"op": "copy", "from": "/__s", "path": "/t"}],
            'Failed to patch JSON data: Cannot read from path "/__s" for patch entry 0',
        ),
    ],
)
def test_json_patch_errors(patch, message):
    with pytest.raises(WebAPIException) as info:
        apply_extra_data_changes({"a": 1, "__s": 1}, {"extra_data:json-patch": json.dumps(patch)})
    assert fields_of(info.value) == {"extra_data": [message]}


def test_json_patch_bad_path_names_the_entry():
    with pytest.raises(WebAPIException) as info:
        apply_extra_data_changes(
            {}, {"extra_data:json-patch": json.dumps([{"op": "remove", "path": "/nope"}])}
        )
    (message,) = fields_of(info.value)["extra_data"]
    assert message.startswith('Failed to patch JSON data: Invalid path "/nope" for patch entry 0')


def test_input_is_never_modified():
    current = {"a": {"b": 1}}
    apply_extra_data_changes(current, {"extra_data:json": '{"a": {"b": 2}}'})
    assert current == {"a": {"b": 1}}


@pytest.mark.django_db
class TestThroughAResource:
    def test_written_and_read_back_without_private_keys(self, admin_client):
        response = admin_client.post(
            "/api/groups/",
            {
                "name": "devs",
                "display_name": "Devs",
                "extra_data.ci": "true",
                "extra_data.__hidden": "x",
                "extra_data:json": '{"nested": {"__p": 1, "v": 2}}',
            },
        )
        body = assert_ok(response, 201)
        assert body["group"]["extra_data"] == {"ci": True, "nested": {"v": 2}}
        assert Group.objects.get(name="devs").extra_data == {"ci": True, "nested": {"v": 2}}

    def test_bad_patch_leaves_stored_data_untouched(self, admin_client):
        Group.objects.create(name="devs", display_name="Devs", extra_data={"__p": 1, "a": 1})
        response = admin_client.put(
            "/api/groups/devs/",
            "display_name=Changed&extra_data:json-patch="
            + json.dumps([{"op": "replace", "path": "/__p", "value": 2}]),
            content_type="application/x-www-form-urlencoded",
        )
        body = assert_error(response, 400, 105)
        assert "extra_data" in body["fields"]
        group = Group.objects.get(name="devs")
        assert (group.display_name, group.extra_data) == ("Devs", {"__p": 1, "a": 1})


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "Infinity"])
def test_non_finite_numbers_stay_strings(value):
    assert apply_extra_data_changes({}, {"extra_data.x": value}) == {"x": value}


@pytest.mark.parametrize(
    "raw",
    [
        '{"a": NaN}',
        '{"a": 1e999}',
        '{"a": -Infinity}',
        "[" * 100000,
        '{"a": ' + "[" * 100 + "]" * 100 + "}",
    ],
)
def test_hostile_json_is_105(raw):
    for field in ("extra_data:json", "extra_data:json-patch"):
        with pytest.raises(WebAPIException) as info:
            apply_extra_data_changes({}, {field: raw})
        assert info.value.error.code == 105
