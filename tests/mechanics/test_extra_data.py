"""core.extra_data: private keys, merge patch, JSON patch, dotted keys, errors."""

from __future__ import annotations

import json

import pytest

from core.errors import InvalidFieldsError
from core.extra_data import apply_extra_data_changes, public_extra_data
from rbapi.domain_errors import to_webapi_error
from reviews.models import Group

from ..conftest import assert_error, assert_ok


def fields_of(exc: InvalidFieldsError) -> dict:
    """What the client sees: the exception handler makes it error 105 with these fields."""
    error = to_webapi_error(exc, anonymous=False)
    assert error is not None and error.payload()["err"]["code"] == 105
    return error.payload()["fields"]


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
    with pytest.raises(InvalidFieldsError) as info:
        apply_extra_data_changes({}, {"extra_data:json": "nope"})
    assert fields_of(info.value) == {
        "extra_data": ["Could not parse JSON data: Expecting value: line 1 column 1 (char 0)"]
    }
    with pytest.raises(InvalidFieldsError) as info:
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
            'Failed to patch JSON data: Test failed for path "/a" at patch entry 0. '
            "Expected 2 and got 1.",
        ),
        (
            [{"op": "copy", "from": "/__s", "path": "/t"}],
            'Failed to patch JSON data: Cannot read from path "/__s" for patch entry 0',
        ),
    ],
)
def test_json_patch_errors(patch, message):
    with pytest.raises(InvalidFieldsError) as info:
        apply_extra_data_changes({"a": 1, "__s": 1}, {"extra_data:json-patch": json.dumps(patch)})
    assert fields_of(info.value) == {"extra_data": [message]}


def test_json_patch_bad_path_names_the_entry():
    with pytest.raises(InvalidFieldsError) as info:
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
        with pytest.raises(InvalidFieldsError) as info:
            apply_extra_data_changes({}, {field: raw})
        assert "extra_data" in fields_of(info.value)


# --- private keys are never created, changed or removed (issue 10) ------------------------------
STORED = {"a": 1, "__top": "t", "n": {"__deep": {"x": 1}, "v": 2}, "l": [{"__in_list": 1}]}


def patch_error(current: dict, patch: list) -> str:
    with pytest.raises(InvalidFieldsError) as info:
        apply_extra_data_changes(current, {"extra_data:json-patch": json.dumps(patch)})
    (message,) = fields_of(info.value)["extra_data"]
    return message


def write_error(path: str, entry: int = 0) -> str:
    return f'Failed to patch JSON data: Cannot write to path "{path}" for patch entry {entry}'


@pytest.mark.parametrize(
    ("patch", "path"),
    [
        # Values carrying private keys, at any depth, in objects or lists.
        ([{"op": "add", "path": "/m", "value": {"__x": 1}}], "/m/__x"),
        ([{"op": "add", "path": "/m", "value": {"k": {"j": {"__x": 1}}}}], "/m/k/j/__x"),
        ([{"op": "add", "path": "/m", "value": [{"__x": 1}]}], "/m/0/__x"),
        ([{"op": "add", "path": "/n/w", "value": {"__x": 1}}], "/n/w/__x"),
        ([{"op": "replace", "path": "/a", "value": {"__x": 1}}], "/a/__x"),
        # The root is never written, with or without private keys (as the original).
        ([{"op": "replace", "path": "", "value": {}}], ""),
        ([{"op": "add", "path": "", "value": {"__top": "t"}}], ""),
        ([{"op": "replace", "path": "", "value": {**STORED, "__new": 1}}], ""),
        ([{"op": "move", "from": "", "path": "/m"}], ""),
        # Private values changed through their parent (1 and true are different JSON).
        (
            [{"op": "replace", "path": "/n", "value": {"__deep": {"x": True}, "v": 2}}],
            "/n/__deep",
        ),
        # Removing or replacing a parent takes private keys with it.
        ([{"op": "remove", "path": "/n"}], "/n/__deep"),
        ([{"op": "replace", "path": "/n", "value": 5}], "/n/__deep"),
        ([{"op": "remove", "path": "/l/0"}], "/l/0/__in_list"),
        # move and copy carry private keys to new places (or away from old ones).
        ([{"op": "move", "from": "/n", "path": "/m"}], "/m/__deep"),
        ([{"op": "copy", "from": "/n", "path": "/m"}], "/m/__deep"),
        ([{"op": "copy", "from": "/l", "path": "/m"}], "/m/0/__in_list"),
        # The second entry names itself.
        (
            [
                {"op": "add", "path": "/ok", "value": 1},
                {"op": "add", "path": "/m", "value": {"__x": 1}},
            ],
            None,
        ),
    ],
)
def test_json_patch_cannot_smuggle_private_keys(patch, path):
    if path is None:
        assert patch_error(STORED, patch) == write_error("/m/__x", 1)
    else:
        assert patch_error(STORED, patch) == write_error(path)


@pytest.mark.parametrize(
    "patch",
    [
        [{"op": "move", "from": "/__top", "path": "/t"}],
        [{"op": "copy", "from": "/n/__deep", "path": "/t"}],
    ],
)
def test_json_patch_cannot_read_private_paths(patch):
    # A move also removes its source: the original calls that a write.
    verb = "write to" if patch[0]["op"] == "move" else "read from"
    assert patch_error(STORED, patch) == (
        f'Failed to patch JSON data: Cannot {verb} path "{patch[0]["from"]}" for patch entry 0'
    )


@pytest.mark.parametrize(
    "path", ["/__top", "/n/__deep", "/n/__deep/x", "/l/0/__in_list", "/__new"]
)
def test_json_patch_cannot_write_private_paths(path):
    assert patch_error(STORED, [{"op": "add", "path": path, "value": 1}]) == write_error(path)


def test_json_patch_test_cannot_probe_private_values():
    # Against the public view: the private key is simply not there.
    message = patch_error(STORED, [{"op": "test", "path": "/n", "value": STORED["n"]}])
    assert message == (
        'Failed to patch JSON data: Test failed for path "/n" at patch entry 0. '
        "Expected {'__deep': {'x': 1}, 'v': 2} and got {'v': 2}."
    )
    # Nor name one: reading through a private key is refused.
    assert patch_error(STORED, [{"op": "test", "path": "/n/__deep", "value": 1}]) == (
        'Failed to patch JSON data: Cannot read from path "/n/__deep" for patch entry 0'
    )
    assert (
        apply_extra_data_changes(
            STORED,
            {
                "extra_data:json-patch": json.dumps(
                    [{"op": "test", "path": "/n", "value": {"v": 2}}]
                )
            },
        )
        == STORED
    )


def test_json_patch_may_edit_around_private_keys():
    patch = [
        {"op": "add", "path": "/n/w", "value": {"x": 1}},
        {"op": "replace", "path": "/n/v", "value": 3},
        {"op": "add", "path": "/l/0/y", "value": 4},
        {"op": "remove", "path": "/a"},
        {"op": "move", "from": "/n/w", "path": "/w"},
        {"op": "add", "path": "/single_underscore", "value": {"_x": 1}},
    ]
    result = apply_extra_data_changes(STORED, {"extra_data:json-patch": json.dumps(patch)})
    assert result == {
        "__top": "t",
        "n": {"__deep": {"x": 1}, "v": 3},
        "l": [{"__in_list": 1, "y": 4}],
        "w": {"x": 1},
        "single_underscore": {"_x": 1},
    }


@pytest.mark.parametrize(
    ("patch", "path"),
    [
        ({"m": [{"__x": 1}]}, "/m/0/__x"),
        ({"m": {"k": [{"j": {"__x": 1}}]}}, "/m/k/0/j/__x"),
        ({"n": None}, "/n/__deep"),
        ({"n": 5}, "/n/__deep"),
        ({"n": [1]}, "/n/__deep"),
        ({"l": []}, "/l/0/__in_list"),
        ({"l": None}, "/l/0/__in_list"),
    ],
)
def test_merge_patch_cannot_smuggle_or_drop_private_keys(patch, path):
    with pytest.raises(InvalidFieldsError) as info:
        apply_extra_data_changes(STORED, {"extra_data:json": json.dumps(patch)})
    assert fields_of(info.value) == {
        "extra_data": [f'Failed to patch JSON data: Cannot write to path "{path}"']
    }


def test_merge_patch_still_skips_private_keys_it_names():
    patch = {"__top": None, "n": {"__deep": None, "v": 9}, "__new": 1, "m": {"__x": 1}}
    result = apply_extra_data_changes(STORED, {"extra_data:json": json.dumps(patch)})
    assert result == {**STORED, "n": {"__deep": {"x": 1}, "v": 9}, "m": {}}


@pytest.mark.parametrize("value", ["", "5", "x"])
def test_dotted_key_cannot_drop_private_keys_under_it(value):
    with pytest.raises(InvalidFieldsError) as info:
        apply_extra_data_changes(STORED, {"extra_data.n": value})
    assert fields_of(info.value) == {"extra_data": ['Cannot write to path "/n/__deep"']}


@pytest.mark.django_db
class TestPrivateKeysThroughAResource:
    """What a client sees: 105 with ``fields.extra_data``, and nothing stored."""

    STORED = {"__p": 1, "n": {"__q": 2, "v": 3}, "a": 1}

    @pytest.mark.parametrize(
        "body",
        [
            {
                "extra_data:json-patch": json.dumps(
                    [{"op": "add", "path": "/m", "value": {"__x": 1}}]
                )
            },
            {"extra_data:json-patch": json.dumps([{"op": "replace", "path": "", "value": {}}])},
            {"extra_data:json-patch": json.dumps([{"op": "move", "from": "/n", "path": "/m"}])},
            {"extra_data:json": json.dumps({"m": [{"__x": 1}]})},
            {"extra_data:json": json.dumps({"n": None})},
            {"extra_data.n": ""},
        ],
    )
    def test_refused_and_nothing_stored(self, admin_client, body):
        from urllib.parse import urlencode

        Group.objects.create(name="devs", display_name="Devs", extra_data=self.STORED)
        response = admin_client.put(
            "/api/groups/devs/",
            urlencode({"display_name": "Changed", **body}),
            content_type="application/x-www-form-urlencoded",
        )
        error = assert_error(response, 400, 105)
        assert list(error["fields"]) == ["extra_data"]
        assert "Cannot write to path" in error["fields"]["extra_data"][0]
        group = Group.objects.get(name="devs")
        assert (group.display_name, group.extra_data) == ("Devs", self.STORED)


# --- Review Board 8.1's wording and precedence for JSON Patch failures (issue 14) --------------
# Each expected message is what the original answers for the same patch on the same data
# (checked against a reference server); only the private key ``__h`` is rbapi's own fixture.
WORDING_STORED = {"a": {"b": 1}, "l": [1, 2], "s": "str", "t": True, "__h": False}


def wording(message: str) -> str:
    return f"Failed to patch JSON data: {message}"


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        # Entry shape and missing keys, before any path is read.
        ([5], "Patch entry 0 must be a dictionary instead of int"),
        ([None], "Patch entry 0 must be a dictionary instead of NoneType"),
        ([{"op": "add", "path": "nope"}], 'Missing key "value" for patch entry 0'),
        ([{"op": "copy", "path": "nope"}], 'Missing key "from" for patch entry 0'),
        ([{"op": "test", "path": "/a/b"}], 'Missing key "value" for patch entry 0'),
        # Pointer syntax: the target's first, then the source's.
        (
            [{"op": "copy", "from": "nope", "path": "nope2"}],
            'Syntax error in path "nope2" for patch entry 0: '
            'Paths must either be empty or start with a "/"',
        ),
        (
            [{"op": "copy", "from": "nope", "path": "/y"}],
            'Syntax error in from path "nope" for patch entry 0: '
            'Paths must either be empty or start with a "/"',
        ),
        (
            [{"op": "add", "path": "/l/01", "value": 1}],
            'Syntax error in path "/l/01" for patch entry 0: List index "01" must not begin '
            'with "0"',
        ),
        (
            [{"op": "add", "path": "/l/-1", "value": 1}],
            'Syntax error in path "/l/-1" for patch entry 0: Negative indexes into lists are '
            "not allowed",
        ),
        (
            [{"op": "copy", "from": "/l/x", "path": "/y"}],
            "Syntax error in from path \"/l/x\" for patch entry 0: 'x' is not a valid list "
            'index in "/l"',
        ),
        # Resolution.
        (
            [{"op": "remove", "path": "/x"}],
            'Invalid path "/x" for patch entry 0: Dictionary key "x" not found in "/"',
        ),
        (
            [{"op": "remove", "path": "/a/zz"}],
            'Invalid path "/a/zz" for patch entry 0: Dictionary key "zz" not found in "/a"',
        ),
        (
            [{"op": "move", "from": "/nope", "path": "/y"}],
            'Invalid from path "/nope" for patch entry 0: Dictionary key "nope" not found in "/"',
        ),
        (
            [{"op": "copy", "from": "/l/5", "path": "/y"}],
            'Invalid from path "/l/5" for patch entry 0: 5 is outside the list in "/l"',
        ),
        (
            [{"op": "test", "path": "/a/b/c", "value": 1}],
            'Invalid path "/a/b/c" for patch entry 0: Cannot resolve path within unsupported '
            'type "int" at "/a/b"',
        ),
        (
            [{"op": "remove", "path": "/l/-/x"}],
            'Invalid path "/l/-/x" for patch entry 0: Cannot resolve path within unsupported '
            'type "JSONPointerEndOfList" at "/l/-"',
        ),
        (
            [{"op": "add", "path": "/q~1r", "value": {}}, {"op": "remove", "path": "/q~1r/c"}],
            'Invalid path "/q~1r/c" for patch entry 1: Dictionary key "c" not found in "/q~1r"',
        ),
        # The target's container is checked before the source.
        (
            [{"op": "move", "from": "/nope", "path": "/nope/b"}],
            'Invalid path "/nope/b" for patch entry 0: Dictionary key "nope" not found in "/"',
        ),
        # Per operation.
        (
            [{"op": "add", "path": "/l/9", "value": 1}],
            'Cannot insert into index 9 in path "/l/9" for patch entry 0',
        ),
        (
            [{"op": "move", "from": "/l/1", "path": "/l/2"}],
            'Cannot insert into index 2 in path "/l/2" for patch entry 0',
        ),
        (
            [{"op": "add", "path": "/a/b/c", "value": 1}],
            'Unable to add key "c" to a non-dictionary/list in path "/a/b/c" for patch entry 0',
        ),
        (
            [{"op": "replace", "path": "/nope", "value": 1}],
            'Cannot remove non-existent key "nope" in path "/nope" for patch entry 0',
        ),
        (
            [{"op": "replace", "path": "/l/-", "value": 1}],
            'Cannot perform operation "replace" on end of list at "/l/-" for patch entry 0',
        ),
        (
            [{"op": "copy", "from": "/l/-", "path": "/y"}],
            'Cannot perform operation "copy" from end of list at "/l/-" for patch entry 0',
        ),
        (
            [{"op": "move", "from": "/a", "path": "/a/b"}],
            "Cannot move values into their own children at patch entry 0",
        ),
        (
            [{"op": "test", "path": "/s", "value": "x"}],
            "Test failed for path \"/s\" at patch entry 0. Expected 'x' and got 'str'.",
        ),
        # The root is never written; private paths are neither written nor read.
        ([{"op": "add", "path": "", "value": 1}], 'Cannot write to path "" for patch entry 0'),
        ([{"op": "remove", "path": ""}], 'Cannot write to path "" for patch entry 0'),
        ([{"op": "bogus", "path": "/__h"}], 'Cannot write to path "/__h" for patch entry 0'),
        (
            [{"op": "move", "from": "/__h", "path": "/y"}],
            'Cannot write to path "/__h" for patch entry 0',
        ),
        (
            [{"op": "test", "path": "/__h", "value": False}],
            'Cannot read from path "/__h" for patch entry 0',
        ),
        (
            [{"op": "copy", "from": "/nope", "path": "/__x"}],
            'Cannot write to path "/__x" for patch entry 0',
        ),
        # A private key that does not exist is simply not found when it must be read.
        (
            [{"op": "remove", "path": "/__x"}],
            'Invalid path "/__x" for patch entry 0: Dictionary key "__x" not found in "/"',
        ),
    ],
)
def test_json_patch_wording_matches_the_original(patch, message):
    assert patch_error(WORDING_STORED, patch) == wording(message)


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        # Unknown operations are skipped once their path is checked.
        ([{"op": "bogus", "path": "/x"}], {}),
        ([{"op": "ADD", "path": "/x", "value": 1}], {}),
        ([{"op": 5, "path": "/x"}], {}),
        # Python's integers: "+1" and "1_0" are indexes; "~2" is no escape.
        ([{"op": "add", "path": "/l/+1", "value": 9}], {"l": [1, 9, 2]}),
        ([{"op": "add", "path": "/a~2b", "value": 1}], {"a~2b": 1}),
        # A test compares as Python does (1 == true == 1.0).
        ([{"op": "test", "path": "/t", "value": 1}], {}),
        ([{"op": "test", "path": "/a", "value": {"b": 1.0}}], {}),
        ([{"op": "move", "from": "/l/0", "path": "/l/-"}], {"l": [2, 1]}),
    ],
)
def test_json_patch_leniencies_of_the_original(patch, expected):
    result = apply_extra_data_changes(WORDING_STORED, {"extra_data:json-patch": json.dumps(patch)})
    assert result == {**WORDING_STORED, **expected}


def test_json_patch_failed_test_shows_the_public_value_with_sorted_keys():
    stored = {"z": {"y": 1, "__p": 2, "b": [{"d": 1, "c": 2}]}}
    assert patch_error(stored, [{"op": "test", "path": "/z", "value": 0}]) == wording(
        'Test failed for path "/z" at patch entry 0. Expected 0 and got '
        "{'b': [{'c': 2, 'd': 1}], 'y': 1}."
    )


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        # HTML 500s in the original; rbapi answers 105 in the same vocabulary.
        (
            [{"op": "replace", "path": "/l/9", "value": 1}],
            'Invalid path "/l/9" for patch entry 0: 9 is outside the list in "/l"',
        ),
        (
            [{"op": "replace", "path": "/s/x", "value": 1}],
            'Invalid path "/s/x" for patch entry 0: Cannot resolve path within unsupported '
            'type "str" at "/s"',
        ),
        (
            [{"op": "add", "path": 5, "value": 1}],
            'Syntax error in path "5" for patch entry 0: Paths must either be empty or start '
            'with a "/"',
        ),
    ],
)
def test_json_patch_where_the_original_fails_with_a_500(patch, message):
    assert patch_error(WORDING_STORED, patch) == wording(message)
