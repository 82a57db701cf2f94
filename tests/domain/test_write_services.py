"""The write services outside the review workflow (users, groups, API tokens, OAuth2
tokens): keyword-only, decided on the row they lock, returning the stored object; and the
views that call them read JSON ``false`` the way Review Board reads a form's ``0``."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

from accounts.services import user_create, user_update
from core.errors import InvalidFieldsError
from reviews.errors import GroupNameTakenError
from reviews.models import Group
from reviews.services.groups import (
    group_create,
    group_delete,
    group_member_add,
    group_member_remove,
    group_update,
)
from webapi.models import WebAPIToken
from webapi.services import api_token_create, api_token_delete, api_token_update

from ..conftest import assert_error, assert_ok

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_user_create_refuses_a_taken_name():
    user = user_create(username="dopey", password="pw", email="d@example.com")
    assert user.check_password("pw") and User.objects.get(username="dopey") == user
    with pytest.raises(InvalidFieldsError) as info:
        user_create(username="dopey", password="x", email="x@example.com")
    assert info.value.fields == {
        "username": ["A user with the requested username already exists."]
    }
    assert User.objects.filter(username="dopey").count() == 1


def test_user_update_writes_only_what_it_names():
    user = user_create(username="dopey", password="pw", email="d@example.com")
    stale = User.objects.get(pk=user.pk)
    User.objects.filter(pk=user.pk).update(first_name="Changed")
    result = user_update(user=stale, values={"last_name": "Dwarf"})
    stored = User.objects.get(pk=user.pk)
    assert (stored.first_name, stored.last_name) == ("Changed", "Dwarf")
    assert result.first_name == "Changed"


def test_group_update_keeps_a_concurrent_change():
    group = group_create(values={"name": "devs", "display_name": "Devs"})
    stale = Group.objects.get(pk=group.pk)
    Group.objects.filter(pk=group.pk).update(mailing_list="devs@example.com")
    result = group_update(
        group=stale, values={"display_name": "Developers"}, extra_data_fields={"extra_data.k": "1"}
    )
    stored = Group.objects.get(pk=group.pk)
    assert (stored.display_name, stored.mailing_list) == ("Developers", "devs@example.com")
    assert stored.extra_data == {"k": 1} and result.extra_data == {"k": 1}


def test_group_name_taken():
    group_create(values={"name": "devs", "display_name": "Devs"})
    other = group_create(values={"name": "ops", "display_name": "Ops"})
    with pytest.raises(GroupNameTakenError):
        group_create(values={"name": "devs", "display_name": "Again"})
    with pytest.raises(GroupNameTakenError):
        group_update(group=other, values={"name": "devs"})
    assert Group.objects.get(pk=other.pk).name == "ops"


def test_group_membership_and_delete():
    group = group_create(values={"name": "devs", "display_name": "Devs"})
    user = user_create(username="dopey", password="pw", email="d@example.com")
    assert group_member_add(group=group, user=user) == user
    group_member_add(group=group, user=user)
    assert list(group.users.all()) == [user]
    group_member_remove(group=group, user=user)
    assert not group.users.exists()
    group_delete(group=group)
    assert not Group.objects.filter(pk=group.pk).exists()


def test_api_token_services_are_keyword_only():
    user = user_create(username="dopey", password="pw", email="d@example.com")
    token = api_token_create(
        user=user, note="n", policy={}, extra_data_fields={"extra_data.ci": "true"}
    )
    assert token.extra_data == {"ci": True}
    with pytest.raises(TypeError):
        api_token_update(token, note="x")  # type: ignore[misc]
    stale = WebAPIToken.objects.get(pk=token.pk)
    WebAPIToken.objects.filter(pk=token.pk).update(note="changed")
    result = api_token_update(token=stale, invalid_reason="leaked")
    assert (result.note, result.valid, result.invalid_reason) == ("changed", False, "leaked")
    api_token_delete(token=result)
    assert not WebAPIToken.objects.filter(pk=token.pk).exists()


def test_json_false_is_false(admin_client):
    """A JSON body's ``false`` arrives as an empty form value; DRF would drop it as
    "absent", Review Board reads it as false."""
    created = assert_ok(
        admin_client.post(
            "/api/groups/",
            json.dumps({"name": "devs", "display_name": "Devs", "visible": False}),
            content_type="application/json",
        ),
        201,
    )["group"]
    assert created["visible"] is False
    assert Group.objects.get(name="devs").visible is False


def test_blank_required_json_value_is_required(admin_client):
    response = admin_client.post(
        "/api/groups/", json.dumps({"name": "devs", "display_name": None}), "application/json"
    )
    body = assert_error(response, 400, 105)
    assert body["fields"] == {"display_name": ["This field is required"]}
