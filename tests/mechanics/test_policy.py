"""rbapi.policy: Review Board's API token policy documents, evaluated and validated
(spec: mechanics.md §9; the Djblets policy matrix in reliability.md §1.3)."""

from __future__ import annotations

import pytest

from rbapi.policy import PolicyError, blocked_object_ids, is_allowed, parse_policy

IDS = {"review_request", "review", "status_update", "user"}


@pytest.mark.parametrize(
    ("policy", "policy_id", "method", "object_id", "allowed"),
    [
        # Empty policies allow everything.
        ({}, "review_request", "DELETE", None, True),
        (None, "review_request", "DELETE", None, True),
        # Global allow / block of everything.
        ({"resources": {"*": {"allow": ["*"]}}}, "review", "PUT", None, True),
        ({"resources": {"*": {"block": ["*"]}}}, "review", "GET", None, False),
        # The spec's example: reads only.
        ({"resources": {"*": {"allow": ["GET"], "block": ["*"]}}}, "review", "GET", None, True),
        ({"resources": {"*": {"allow": ["GET"], "block": ["*"]}}}, "review", "POST", None, False),
        # A resource section overrides the global one, both ways.
        (
            {"resources": {"*": {"block": ["*"]}, "review": {"*": {"allow": ["*"]}}}},
            "review",
            "DELETE",
            None,
            True,
        ),
        (
            {"resources": {"*": {"block": ["*"]}, "review": {"*": {"allow": ["*"]}}}},
            "user",
            "GET",
            None,
            False,
        ),
        (
            {"resources": {"*": {"allow": ["*"]}, "review": {"*": {"block": ["PUT"]}}}},
            "review",
            "PUT",
            None,
            False,
        ),
        (
            {"resources": {"*": {"allow": ["*"]}, "review": {"*": {"block": ["PUT"]}}}},
            "review",
            "GET",
            None,
            True,
        ),
        # An object's own leaf overrides its resource's and the global one.
        (
            {"resources": {"review_request": {"42": {"allow": ["*"]}, "*": {"block": ["*"]}}}},
            "review_request",
            "DELETE",
            "42",
            True,
        ),
        (
            {"resources": {"review_request": {"42": {"allow": ["*"]}, "*": {"block": ["*"]}}}},
            "review_request",
            "GET",
            "7",
            False,
        ),
        (
            {"resources": {"review_request": {"42": {"block": ["GET"]}}}},
            "review_request",
            "GET",
            42,
            False,
        ),
        # A specific method beats a wildcard within one leaf, either way.
        ({"resources": {"*": {"allow": ["PUT"], "block": ["*"]}}}, "user", "PUT", None, True),
        ({"resources": {"*": {"allow": ["*"], "block": ["PUT"]}}}, "user", "PUT", None, False),
        ({"resources": {"*": {"allow": ["*"], "block": ["PUT"]}}}, "user", "GET", None, True),
        # Allow and block both "*": blocked.
        ({"resources": {"*": {"allow": ["*"], "block": ["*"]}}}, "user", "GET", None, False),
        # The same method in both lists: blocked.
        ({"resources": {"*": {"allow": ["GET"], "block": ["GET"]}}}, "user", "GET", None, False),
        # No leaf with an opinion: allowed.
        ({"resources": {"review": {"*": {"block": ["PUT"]}}}}, "user", "PUT", None, True),
        ({"resources": {"*": {"allow": ["GET"]}}}, "user", "PUT", None, True),
    ],
)
def test_evaluation(policy, policy_id, method, object_id, allowed):
    assert is_allowed(policy, policy_id, method, object_id) is allowed


def test_blocked_object_ids_are_those_whose_leaf_denies_reads():
    policy = {
        "resources": {
            "review_request": {
                "1": {"block": ["GET"]},
                "2": {"block": ["PUT"]},
                "3": {"allow": ["*"]},
                "*": {"allow": ["*"]},
            }
        }
    }
    assert blocked_object_ids(policy, "review_request") == ["1"]
    assert blocked_object_ids(policy, "review") == []
    assert blocked_object_ids({}, "review_request") == []


@pytest.mark.parametrize(
    "raw",
    [
        "{}",
        '{"resources": {"*": {"allow": ["GET"], "block": ["*"]}}}',
        '{"resources": {"review_request": {"1": {"block": ["GET"]}}}}',
        '{"resources": {"*": {"allow": ["FOO"]}}}',
        '{"resources": {"*": {"allow": ["GET"]}}, "extra": 1}',
    ],
)
def test_valid_policies(raw):
    import json

    assert parse_policy(raw, IDS) == json.loads(raw)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            "{bad",
            "The policy is not valid JSON: Expecting property name enclosed in double "
            "quotes: line 1 column 2 (char 1)",
        ),
        ("", "The policy is not valid JSON: Expecting value: line 1 column 1 (char 0)"),
        ("[1]", "The policy must be a JSON object."),
        ("null", "The policy must be a JSON object."),
        ('"str"', "The policy must be a JSON object."),
        ('{"foo": 1}', 'The policy is missing a "resources" section.'),
        ('{"resources": []}', 'The policy\'s "resources" section must be a JSON object.'),
        ('{"resources": {}}', 'The policy\'s "resources" section must not be empty.'),
        ('{"resources": {"nope": {"allow": ["*"]}}}', '"nope" is not a valid resource policy ID.'),
        (
            '{"resources": {"*": {"allow": "GET"}}}',
            'The "resources.*" section\'s "allow" rule must be a list.',
        ),
        (
            '{"resources": {"*": {"block": "*"}}}',
            'The "resources.*" section\'s "block" rule must be a list.',
        ),
        (
            '{"resources": {"*": {"allow": [1]}}}',
            'The "resources.*" section\'s "allow" rule must be a list.',
        ),
        (
            '{"resources": {"*": {}}}',
            'The "resources.*" section must have "allow" and/or "block" rules.',
        ),
        ('{"resources": {"*": []}}', 'The "resources.*" section must be a JSON object.'),
        ('{"resources": {"review": []}}', 'The "resources.review" section must be a JSON object.'),
        (
            '{"resources": {"review_request": {"allow": ["GET"]}}}',
            'The "resources.review_request.allow" section must be a JSON object.',
        ),
        (
            '{"resources": {"review_request": {"1": {"deny": ["GET"]}}}}',
            'The "resources.review_request.1" section must have "allow" and/or "block" rules.',
        ),
    ],
)
def test_invalid_policies_say_what_is_wrong(raw, message):
    with pytest.raises(PolicyError) as info:
        parse_policy(raw, IDS)
    assert str(info.value) == message
