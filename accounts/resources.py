"""A user's child lists: ``watched/`` (starred review requests and groups),
``archived-review-requests/`` and ``muted-review-requests/`` (spec: code-and-files.md §11).

These are Review Board's odd ones out, reproduced because clients read them as they are:

* the watched lists have no ``links``, no ``total_results`` and no paging; each entry is
  ``{"id": <object id>, "watched_review_request": <full payload>}``; an item GET is a 302 to
  the object's own URL; groups are found by id for GET but by name for DELETE;
* the archived and muted lists take only POST and DELETE (GET is 405 with ``Allow``), and
  act on the *caller's* own state: Review Board's POST does not check that the caller is the
  user named in the URL (golden 163), which is harmless because it archives for the caller.

Starring and archiving are per user and shown only through these lists and the review
request list's ``to-users`` filters; a review request the viewer may not see never appears.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import ReviewRequestVisit
from accounts.user_lists import (
    review_request_visibility_clear,
    review_request_visibility_set,
    watched_group_add,
    watched_group_remove,
    watched_review_request_add,
    watched_review_request_remove,
)
from rbapi import errors
from rbapi.errors import WebAPIException
from rbapi.fields import SerializeContext, embedded_object
from rbapi.inputs import CharField, RBSerializer, validated
from rbapi.links import absolute, fill_template, link
from rbapi.parsers import as_id
from rbapi.registry import get_resource
from rbapi.resources import WebAPIResource
from reviews.models import GROUP_NAME_REGEX, Group, ReviewRequest

User = get_user_model()


class ObjectIdInput(RBSerializer):
    object_id = CharField()


def _may_act_for(request: Request, user: AbstractBaseUser) -> bool:
    """The user themself or an administrator (Review Board's user ``has_modify_permissions``)."""
    viewer = request.user
    return viewer.is_authenticated and (viewer.pk == user.pk or viewer.is_superuser)


def _named_user(url_kwargs: dict[str, Any]) -> AbstractBaseUser | None:
    return User.objects.filter(username=url_kwargs.get("username")).first()


class WatchedResource(WebAPIResource):
    """``/api/users/{username}/watched/``: only links to the two watched lists."""

    name = "watched"
    singleton = True
    # Its answer is the links alone (golden 151), for the schema.
    links_only = True
    item_child_resources = ("watched_review_group", "watched_review_request")

    def lookup_object(self, request: Request, url_kwargs: dict[str, Any], parent: Any) -> Any:
        # The watched lists belong to the user; this level only groups them.
        return parent

    def get_item(self, request: Request, **kwargs: Any) -> Response:
        self.get_object(request, kwargs)  # an unknown user is 404
        href = absolute(request, fill_template(self.item_template, kwargs))
        links: dict[str, Any] = {"self": link(href)}
        for child_name in self.item_child_resources:
            child = get_resource(child_name)
            links[child.link_name()] = link(href + child.uri_name + "/")
        return Response({"links": links})


class _WatchedListResource(WebAPIResource, ABC):
    """What the two watched lists share; ``target`` names the resource of the objects."""

    target = ""
    # Review Board's unpaged list shape (see the module docstring), for the schema.
    bare_list = True
    uri_object_key = "watched_obj_id"
    # Both lists share the key; groups are deleted by name, so it takes names.
    uri_object_key_regex = GROUP_NAME_REGEX
    list_methods = ("GET", "POST")
    item_methods = ("GET", "DELETE")

    @abstractmethod
    def watched_queryset(self, request: Request, user: AbstractBaseUser) -> QuerySet:
        """What ``user`` starred, among what the viewer may see."""

    @abstractmethod
    def find_target(self, request: Request, object_id: str) -> Any:
        """The object a POST names (404 when none the caller may see)."""

    @abstractmethod
    def add(self, *, user: AbstractBaseUser, obj: Any) -> None:
        """Star ``obj`` for ``user`` (one service call)."""

    @abstractmethod
    def remove(self, *, user: AbstractBaseUser, obj: Any) -> None:
        """Unstar ``obj`` for ``user`` (one service call)."""

    # --- reads ---------------------------------------------------------------------------------
    def get_list(self, request: Request, **kwargs: Any) -> Response:
        """Every starred object at once: Review Board pages nothing here and sends no links
        or total; an unknown user has an empty list."""
        user = _named_user(kwargs)
        target = get_resource(self.target)
        objects: list[Any] = []
        if user is not None:
            queryset = self.apply_token_policy(request, self.watched_queryset(request, user))
            objects = list(target.optimize_queryset(queryset))
        ctx = self.serialize_context(request, kwargs)
        target.prepare_page(objects, ctx)
        return Response(
            {
                self.list_result_key: [
                    {"id": obj.pk, self.item_result_key: self.embed(obj, ctx)} for obj in objects
                ]
            }
        )

    def embed(self, obj: Any, ctx: SerializeContext) -> dict[str, Any]:
        return embedded_object(get_resource(self.target), obj, ctx)

    def get_item(self, request: Request, **kwargs: Any) -> Response:
        """A redirect to the starred object's own URL (404 when it is not starred)."""
        user = _named_user(kwargs)
        if user is None:
            raise WebAPIException(errors.DOES_NOT_EXIST)
        obj = self.watched_item(request, user, kwargs[self.uri_object_key])
        target = get_resource(self.target)
        location = target.object_href(obj, self.serialize_context(request, {}))
        # An empty 302 as the review and reply draft redirects answer it (Review Board's
        # is text/html; nothing under /api/ is HTML here).
        return Response(status=302, headers={"Location": location})

    def watched_item(self, request: Request, user: AbstractBaseUser, key: str) -> Any:
        pk = as_id(key)
        obj = self.watched_queryset(request, user).filter(pk=pk).first() if pk else None
        if obj is None:
            raise WebAPIException(errors.DOES_NOT_EXIST)
        return obj

    # --- writes --------------------------------------------------------------------------------
    def create(self, request: Request, *, parent: Any, url_kwargs: dict[str, Any]) -> Response:
        if not _may_act_for(request, parent):
            raise self.no_access_error(request)
        object_id = validated(ObjectIdInput, request.data)["object_id"]
        obj = self.find_target(request, object_id)
        self.add(user=parent, obj=obj)
        ctx = self.serialize_context(request, url_kwargs)
        get_resource(self.target).prepare_page([obj], ctx)
        return Response({self.item_result_key: self.embed(obj, ctx)}, status=201)

    def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = self.get_parent_object(request, kwargs)
        if not _may_act_for(request, user):
            raise self.no_access_error(request)
        self.remove(user=user, obj=self.delete_target(request, kwargs[self.uri_object_key]))
        return Response(status=204)

    def delete_target(self, request: Request, key: str) -> Any:
        return self.find_target(request, key)


class WatchedReviewRequestResource(_WatchedListResource):
    name = "watched_review_request"
    uri_name = "review-requests"
    target = "review_request"
    model = ReviewRequest

    def watched_queryset(self, request: Request, user: AbstractBaseUser) -> QuerySet:
        return (
            ReviewRequest.objects.accessible(request.user)
            .filter(watchers__user=user)
            .order_by("pk")
        )

    def find_target(self, request: Request, object_id: str) -> ReviewRequest:
        # Review Board stars a review request the caller cannot see and answers with it in
        # full; rbapi answers 404 instead, so the payload never shows what a GET would refuse.
        pk = as_id(object_id.strip())
        obj = ReviewRequest.objects.select_related("submitter", "repository").filter(pk=pk).first()
        if obj is None or not obj.is_accessible_by(request.user):
            raise WebAPIException(errors.DOES_NOT_EXIST)
        return obj

    def delete_target(self, request: Request, key: str) -> ReviewRequest:
        # Unstarring needs only the id: a review request that became hidden can still be
        # removed from the list.
        obj = ReviewRequest.objects.filter(pk=as_id(key)).first() if as_id(key) else None
        if obj is None:
            raise WebAPIException(errors.DOES_NOT_EXIST)
        return obj

    def add(self, *, user: AbstractBaseUser, obj: ReviewRequest) -> None:
        watched_review_request_add(user=user, review_request=obj)

    def remove(self, *, user: AbstractBaseUser, obj: ReviewRequest) -> None:
        watched_review_request_remove(user=user, review_request=obj)


class WatchedGroupResource(_WatchedListResource):
    name = "watched_review_group"
    uri_name = "review-groups"
    target = "group"
    model = Group

    def watched_queryset(self, request: Request, user: AbstractBaseUser) -> QuerySet:
        return (
            Group.objects.accessible(request.user, visible_only=False)
            .filter(watchers__user=user)
            .order_by("pk")
        )

    def watched_item(self, request: Request, user: AbstractBaseUser, key: str) -> Group:
        """By id, as Review Board; a name (an HTML 500 there) is accepted too."""
        queryset = self.watched_queryset(request, user)
        pk = as_id(key)
        obj = queryset.filter(pk=pk).first() if pk else None
        if obj is None:
            obj = queryset.filter(name=key).first()
        if obj is None:
            raise WebAPIException(errors.DOES_NOT_EXIST)
        return obj

    def find_target(self, request: Request, object_id: str) -> Group:
        """By name (POST ``object_id`` and the DELETE URL both name the group)."""
        obj = (
            Group.objects.accessible(request.user, visible_only=False)
            .filter(name=object_id.strip())
            .first()
        )
        if obj is None:
            raise WebAPIException(errors.DOES_NOT_EXIST)
        return obj

    def delete_target(self, request: Request, key: str) -> Group:
        obj = Group.objects.filter(name=key).first()
        if obj is None:
            raise WebAPIException(errors.DOES_NOT_EXIST)
        return obj

    def add(self, *, user: AbstractBaseUser, obj: Group) -> None:
        watched_group_add(user=user, group=obj)

    def remove(self, *, user: AbstractBaseUser, obj: Group) -> None:
        watched_group_remove(user=user, group=obj)


class _VisitListResource(WebAPIResource):
    """The archived and muted lists: POST and DELETE only."""

    visibility = ""
    model = ReviewRequest
    uri_object_key = "review_request_id"
    list_methods = ("POST",)
    item_methods = ("DELETE",)
    login_required = True

    def create(self, request: Request, *, parent: Any, url_kwargs: dict[str, Any]) -> Response:
        object_id = validated(ObjectIdInput, request.data)["object_id"]
        pk = as_id(object_id.strip())
        obj = ReviewRequest.objects.select_related("submitter", "repository").filter(pk=pk).first()
        if obj is None or not obj.is_accessible_by(request.user):
            raise WebAPIException(errors.DOES_NOT_EXIST)
        # The caller's own state, whatever user the URL names (Review Board, golden 163).
        review_request_visibility_set(
            user=request.user, review_request=obj, visibility=self.visibility
        )
        ctx = self.serialize_context(request, url_kwargs)
        target = get_resource("review_request")
        target.prepare_page([obj], ctx)
        return Response({self.item_result_key: embedded_object(target, obj, ctx)}, status=201)

    def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = self.get_parent_object(request, kwargs)
        if not _may_act_for(request, user):
            raise self.no_access_error(request)
        pk = as_id(kwargs[self.uri_object_key])
        obj = ReviewRequest.objects.filter(pk=pk).first() if pk else None
        if obj is None:
            raise WebAPIException(errors.DOES_NOT_EXIST)
        review_request_visibility_clear(
            user=request.user, review_request=obj, visibility=self.visibility
        )
        return Response(status=204)


class ArchivedReviewRequestResource(_VisitListResource):
    name = "archived_review_request"
    visibility = ReviewRequestVisit.ARCHIVED


class MutedReviewRequestResource(_VisitListResource):
    name = "muted_review_request"
    visibility = ReviewRequestVisit.MUTED
