"""``/api/review-requests/`` and ``/api/review-requests/{review_request_id}/``.

Lists show what the viewer may see (``ReviewRequest.objects.accessible``), newest-updated
first, ``status=pending`` by default, with Review Board's filters. POST creates an unpublished
review request with its draft; PUT closes, reopens or edits the close description; DELETE needs
``reviews.delete_reviewrequest`` (spec: resources.md §1).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from rest_framework.request import Request
from rest_framework.response import Response

from changes.models import ChangeDescription
from rbapi import errors
from rbapi.errors import WebAPIException, form_error
from rbapi.extra_data import apply_extra_data_changes, has_extra_data_changes
from rbapi.fields import (
    ExtraDataField,
    Field,
    ObjectField,
    ObjectListField,
    RichTextField,
    SerializeContext,
    choice_message,
)
from rbapi.filters import boolean, filterset, integer_range, text
from rbapi.parsers import as_id, parse_bool, parse_comma_list, parse_datetime, parse_int
from rbapi.resources import WebAPIResource
from reviews.errors import CommitIdInUseError
from reviews.models import Repository, ReviewRequest
from reviews.services import (
    review_request_close,
    review_request_create,
    review_request_reopen,
    review_request_set_extra_data,
)

User = get_user_model()

# The changenum column is a 32-bit integer.
MAX_CHANGENUM = 2**31 - 1
STATUS_CODES = {"pending": "P", "submitted": "S", "discarded": "D"}


def _users(names: str) -> list:
    found = []
    for name in parse_comma_list(names):
        try:
            found.append(User.objects.get(username=name))
        except User.DoesNotExist:
            raise WebAPIException(errors.DOES_NOT_EXIST) from None
    return found


def _to_groups(queryset: QuerySet, value: str, request: Request) -> QuerySet:
    for name in parse_comma_list(value):
        queryset = queryset.filter(target_groups__name__iexact=name)
    return queryset


def _to_users(queryset: QuerySet, value: str, request: Request) -> QuerySet:
    for user in _users(value):
        queryset = queryset.filter(
            Q(target_people=user) | Q(target_groups__in=user.review_groups.all())
        )
    return queryset


def _to_users_directly(queryset: QuerySet, value: str, request: Request) -> QuerySet:
    for user in _users(value):
        queryset = queryset.filter(target_people=user)
    return queryset


def _to_users_groups(queryset: QuerySet, value: str, request: Request) -> QuerySet:
    for user in _users(value):
        queryset = queryset.filter(target_groups__in=user.review_groups.all())
    return queryset


def _from_user(queryset: QuerySet, value: str, request: Request) -> QuerySet:
    return queryset.filter(submitter__username=value)


def _commit(queryset: QuerySet, value: Any, request: Request) -> QuerySet:
    # changenum and commit-id are OR'ed together, as upstream does.
    params = request.query_params
    query = Q()
    if params.get("commit-id"):
        query |= Q(commit_id=params["commit-id"])
    if params.get("changenum"):
        changenum = parse_int("changenum", params["changenum"])
        query |= Q(commit_id=str(changenum))
        if 0 <= changenum <= MAX_CHANGENUM:
            query |= Q(changenum=changenum)
    return queryset.filter(query)


def _ship_it(queryset: QuerySet, value: bool, request: Request) -> QuerySet:
    return queryset.filter(shipit_count__gt=0) if value else queryset.filter(shipit_count=0)


def _date_filter(lookup: str):
    def apply(queryset: QuerySet, value: Any, request: Request) -> QuerySet:
        return queryset.filter(**{lookup: value})

    return apply


ReviewRequestFilterSet = filterset(
    ReviewRequest,
    {
        "to-groups": text(_to_groups),
        "to-users": text(_to_users),
        "to-users-directly": text(_to_users_directly),
        "to-users-groups": text(_to_users_groups),
        "to-user-groups": text(_to_users_groups),
        "from-user": text(_from_user),
        "repository": text(
            lambda queryset, value, request: queryset.filter(
                repository=parse_int("repository", value)
            )
        ),
        "branch": text(lambda queryset, value, request: queryset.filter(branch=value)),
        "commit-id": text(_commit),
        "changenum": text(
            lambda queryset, value, request: (
                queryset
                if request.query_params.get("commit-id")
                else _commit(queryset, value, request)
            )
        ),
        "ship-it": boolean(_ship_it),
        **integer_range("ship-it-count", "shipit_count"),
        **integer_range("issue-open-count", "issue_open_count"),
        **integer_range("issue-dropped-count", "issue_dropped_count"),
        **integer_range("issue-resolved-count", "issue_resolved_count"),
        **integer_range("issue-verifying-count", "issue_verifying_count"),
        "time-added-from": text(
            lambda queryset, value, request: queryset.filter(
                time_added__gte=parse_datetime("time-added-from", value)
            )
        ),
        "time-added-to": text(
            lambda queryset, value, request: queryset.filter(
                time_added__lt=parse_datetime("time-added-to", value)
            )
        ),
        "last-updated-from": text(
            lambda queryset, value, request: queryset.filter(
                last_updated__gte=parse_datetime("last-updated-from", value)
            )
        ),
        "last-updated-to": text(
            lambda queryset, value, request: queryset.filter(
                last_updated__lt=parse_datetime("last-updated-to", value)
            )
        ),
    },
)


class ReviewRequestResource(WebAPIResource):
    name = "review_request"
    model = ReviewRequest
    uri_object_key = "review_request_id"
    list_methods = ("GET", "POST")
    item_methods = ("GET", "PUT", "DELETE")
    item_child_resources = ("change", "draft", "last_update", "review", "status_update")
    capabilities = {"review_requests": {"commit_ids": True, "trivial_publish": True}}
    fields = (
        Field("id"),
        Field("approved"),
        Field("approval_failure"),
        ObjectListField("blocks", resource="review_request"),
        RichTextField("close_description"),
        Field("created_with_history"),
        ObjectListField("depends_on", resource="review_request"),
        ExtraDataField(),
        Field("issue_dropped_count"),
        Field("issue_open_count"),
        Field("issue_resolved_count"),
        Field("issue_verifying_count"),
        Field("time_added"),
        Field("last_updated"),
        Field("text_type"),
        Field("status", source="status_name"),
        Field("public"),
        Field("changenum"),
        Field("commit_id"),
        ObjectField("repository", resource="repository"),
        Field("ship_it_count", source="shipit_count"),
        Field("summary"),
        RichTextField("description"),
        RichTextField("testing_done"),
        Field("bugs_closed"),
        Field("branch"),
        ObjectListField("target_groups", resource="group"),
        ObjectListField("target_people", resource="user"),
        Field("url"),
        Field("absolute_url"),
        ObjectField("submitter", resource="user"),
    )
    filterset_class = ReviewRequestFilterSet
    ordering = ("-last_updated", "-pk")
    list_select_related = ("submitter", "submitter__rb_profile", "repository")
    list_prefetch_related = (
        "target_people",
        "target_people__rb_profile",
        "target_groups",
        "depends_on",
        "reviewrequest_blocks",
        Prefetch("changedescs", queryset=ChangeDescription.objects.filter(public=True)),
    )

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        if not is_list:
            return ReviewRequest.objects.select_related("submitter", "repository")
        user = request.user
        show_all = parse_bool(request.query_params.get("show-all-unpublished", "")) and (
            user.is_superuser or user.has_perm("reviews.can_submit_as_another_user")
        )
        queryset = ReviewRequest.objects.accessible(user, show_all_unpublished=show_all)
        status = request.query_params.get("status") or "pending"
        if status != "all":
            if status not in STATUS_CODES:
                raise form_error({"status": [choice_message(status, ("all", *STATUS_CODES))]})
            queryset = queryset.filter(status=STATUS_CODES[status])
        return queryset

    def filter_queryset(self, request: Request, queryset: QuerySet) -> QuerySet:
        # Filters that join to many-valued relations can repeat rows: keep each request once.
        return super().filter_queryset(request, queryset).distinct()

    def visible_pks(self, objects: list[ReviewRequest], ctx: SerializeContext) -> set[int]:
        """Related review requests (depends_on, blocks, change records) are shown only to
        those who may see them: one query for a whole page."""
        user = ctx.request.user
        if user.is_superuser:
            return {obj.pk for obj in objects}
        editor = user.has_perm("reviews.can_edit_reviewrequest")
        return set(
            ReviewRequest.objects.accessible(user, show_all_unpublished=editor)
            .filter(pk__in=[obj.pk for obj in objects])
            .values_list("pk", flat=True)
        )

    # --- fields --------------------------------------------------------------------------------
    def serialize_created_with_history_field(self, obj: Any, ctx: SerializeContext) -> bool:
        return False

    def serialize_text_type_field(self, obj: Any, ctx: SerializeContext) -> None:
        return None

    def serialize_bugs_closed_field(self, obj: ReviewRequest, ctx: SerializeContext) -> list:
        return obj.get_bugs()

    def serialize_url_field(self, obj: ReviewRequest, ctx: SerializeContext) -> str:
        return f"/r/{obj.display_id}/"

    def serialize_absolute_url_field(self, obj: ReviewRequest, ctx: SerializeContext) -> str:
        return ctx.request.build_absolute_uri(f"/r/{obj.display_id}/")

    def object_key(self, obj: ReviewRequest) -> int:
        return obj.display_id

    # --- permissions ---------------------------------------------------------------------------
    def has_modify_permissions(self, request: Request, obj: ReviewRequest) -> bool:
        return obj.is_mutable_by(request.user) or obj.is_status_mutable_by(request.user)

    def has_delete_permissions(self, request: Request, obj: ReviewRequest) -> bool:
        return request.user.has_perm("reviews.delete_reviewrequest")

    # --- writes --------------------------------------------------------------------------------
    def create(self, request: Request, *, parent: Any, url_kwargs: dict[str, Any]) -> Response:
        data = request.data
        submitter = request.user
        if data.get("submit_as"):
            if not (
                request.user.is_superuser
                or request.user.has_perm("reviews.can_submit_as_another_user")
            ):
                raise self.no_access_error(request)
            try:
                submitter = User.objects.get(username=data["submit_as"])
            except User.DoesNotExist:
                raise WebAPIException(errors.INVALID_USER) from None
        repository = self._find_repository(request, data.get("repository"))
        commit_id = data.get("commit_id") or None
        if data.get("changenum"):
            commit_id = str(parse_int("changenum", data["changenum"]))
        extra_data = apply_extra_data_changes({}, data)
        try:
            review_request = review_request_create(
                submitter=submitter,
                repository=repository,
                commit_id=commit_id,
                extra_data=extra_data,
            )
        except CommitIdInUseError:
            # Review Board names the review request that already has the commit.
            holder = ReviewRequest.objects.filter(
                repository=repository, commit_id=commit_id
            ).first()
            ctx = self.serialize_context(request, url_kwargs)
            # Named only to those who may see it.
            shown = holder is not None and holder.is_accessible_by(request.user)
            extra = {"review_request": self.serialize_object(holder, ctx)} if shown else {}
            raise WebAPIException(errors.CHANGE_NUMBER_IN_USE, extra=extra) from None
        return self.item_response(request, review_request, url_kwargs, status=201)

    def _find_repository(self, request: Request, value: str | None) -> Repository | None:
        """A repository by id, name, path or mirror path (206 when none or several match)."""
        if not value:
            return None
        matches = Repository.objects.filter(archived=False).filter(
            Repository.path_lookup(value) | (Q(pk=as_id(value)) if as_id(value) else Q())
        )
        found = list(matches[:2])
        if not found:
            raise WebAPIException(errors.INVALID_REPOSITORY, extra={"repository": value})
        if len(found) > 1:
            raise WebAPIException(
                errors.INVALID_REPOSITORY,
                f'Too many repositories matched "{value}". Try specifying the repository '
                "by name instead.",
                extra={"repository": value},
            )
        if not found[0].is_accessible_by(request.user):
            raise self.no_access_error(request)
        return found[0]

    def update(
        self, request: Request, obj: ReviewRequest, *, url_kwargs: dict[str, Any]
    ) -> Response:
        """Close, reopen or edit the close description, and change extra_data: every right
        and every value is checked before anything is stored, then all of it is stored in one
        transaction."""
        data = request.data
        user = request.user
        status = data.get("status")
        if status is not None and status not in STATUS_CODES:
            raise form_error({"status": [choice_message(status, tuple(STATUS_CODES))]})
        changes_extra_data = has_extra_data_changes(data)
        if changes_extra_data and not obj.is_mutable_by(user):
            raise self.no_access_error(request)
        if status is not None and not obj.is_status_mutable_by(user):
            raise self.no_access_error(request)
        text_type = data.get("close_description_text_type", data.get("text_type"))
        if text_type is not None and text_type not in ("plain", "markdown"):
            raise form_error(
                {"close_description_text_type": [choice_message(text_type, ("plain", "markdown"))]}
            )
        if changes_extra_data:
            apply_extra_data_changes(obj.extra_data, data)  # refuse bad input before writing
        with transaction.atomic():
            if status is not None and STATUS_CODES[status] == ReviewRequest.PENDING:
                review_request_reopen(review_request=obj, user=user)
            elif status is not None:
                description = data.get("close_description", data.get("description", ""))
                review_request_close(
                    review_request=obj,
                    user=user,
                    status=STATUS_CODES[status],
                    description=(description or "").strip(),
                    rich_text=text_type == "markdown",
                )
            if changes_extra_data:
                review_request_set_extra_data(review_request=obj, fields=data)
        obj = ReviewRequest.objects.get(pk=obj.pk)
        return self.item_response(request, obj, url_kwargs)

    def delete_object(self, request: Request, obj: ReviewRequest) -> None:
        obj.delete()
