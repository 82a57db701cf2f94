"""``/api/review-requests/`` and ``/api/review-requests/{review_request_id}/``.

Lists show what the viewer may see (``ReviewRequest.objects.accessible``), newest-updated
first, ``status=pending`` by default, with Review Board's filters. POST creates an unpublished
review request with its draft; PUT closes, reopens or edits the close description; DELETE needs
``reviews.delete_reviewrequest`` (spec: resources.md §1).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q, QuerySet
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from changes.models import ChangeDescription
from core.extra_data import apply_extra_data_changes
from core.statements import Statement
from rbapi import errors
from rbapi.errors import WebAPIException, form_error
from rbapi.fields import (
    STORED_TEXT_TYPES,
    ExtraDataField,
    Field,
    ObjectField,
    ObjectListField,
    RichTextField,
    SerializeContext,
    choice_message,
    embedded_object,
)
from rbapi.inputs import (
    BooleanField,
    CharField,
    ChoiceField,
    IntegerField,
    RBSerializer,
    validated,
)
from rbapi.parsers import as_id, parse_bool
from rbapi.resources import WebAPIResource
from reviews.errors import CommitIdInUseError
from reviews.filters import ReviewRequestFilterSet
from reviews.models import Repository, ReviewRequest
from reviews.services import (
    review_request_create,
    review_request_delete,
    review_request_update,
)

User = get_user_model()

STATUS_CODES = {"pending": "P", "submitted": "S", "discarded": "D"}
HISTORY_NEEDS_REPOSITORY = "A repository is required to create a review request with history."


def item_queryset() -> QuerySet:
    """One review request with what its access checks and links read (submitter,
    repository)."""
    return ReviewRequest.objects.select_related("submitter", "repository")


class ReviewRequestResource(WebAPIResource):
    name = "review_request"
    model = ReviewRequest
    item_statement = Statement(lambda key: item_queryset().filter(pk=key), key=int)
    uri_object_key = "review_request_id"
    list_methods = ("GET", "POST")
    item_methods = ("GET", "PUT", "DELETE")
    item_child_resources = (
        "change",
        "diff",
        "diff_context",
        "draft",
        "file_attachment",
        "last_update",
        "review",
        "screenshot",
        "status_update",
    )
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
            return item_queryset()
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

    def prepare_page(self, objects: list[ReviewRequest], ctx: SerializeContext) -> None:
        super().prepare_page(objects, ctx)
        # ``links.latest_diff``: the latest public diff revision of each, in one query.
        from diffs.models import latest_revisions

        latest = latest_revisions([obj.pk for obj in objects])
        for obj in objects:
            obj._rbapi_latest_diff = latest.get(obj.pk)

    def get_related_links(self, obj: ReviewRequest, ctx: SerializeContext) -> dict[str, Any]:
        links = super().get_related_links(obj, ctx)
        if not hasattr(obj, "_rbapi_latest_diff"):
            # An embedded review request (expanded, or in a change record) is not part of a
            # prepared page: its own lookup, so it links its latest diff too (Review Board 8.1).
            from diffs.models import latest_revisions

            obj._rbapi_latest_diff = latest_revisions([obj.pk]).get(obj.pk)
        revision = obj._rbapi_latest_diff
        if revision is not None:
            # Only once a public diff exists (spec code-and-files §3, golden 047).
            links["latest_diff"] = {
                "href": f"{self.object_href(obj, ctx)}diffs/{revision}/",
                "method": "GET",
            }
        return links

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
        from diffs.models import created_with_history

        return created_with_history(obj)

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
        data = validated(ReviewRequestCreateInput, request.data, extra_data={})
        submitter = request.user
        # Submitting as oneself needs no right (Review Board accepts it).
        if data.get("submit_as") and data["submit_as"] != request.user.get_username():
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
        if data.get("changenum") is not None:
            commit_id = str(data["changenum"])
        extra_data = apply_extra_data_changes({}, data["extra_data_fields"] or {})
        if data.get("create_with_history"):
            # Kept as Review Board keeps it: a private extra_data key (diffs.models).
            from diffs.models import CREATED_WITH_HISTORY_KEY

            if repository is None:
                raise form_error({"create_with_history": [HISTORY_NEEDS_REPOSITORY]})
            extra_data[CREATED_WITH_HISTORY_KEY] = True
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
            extra = {"review_request": embedded_object(self, holder, ctx)} if shown else {}
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

    def put(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The choice fields are checked first, as Review Board does (before the lookup and
        the rights, so a bad value is 105 whoever asks and whatever the URL names)."""
        check_update_choices(request.data)
        return super().put(request, *args, **kwargs)

    def serialize_close_description_field(
        self, obj: ReviewRequest, ctx: SerializeContext
    ) -> str | None:
        # The answer to a close without a description says null, as Review Board's does (a
        # later GET says "").
        if getattr(obj, "_rbapi_closed_now", False) and not obj.close_description:
            return None
        return obj.close_description

    def update(
        self, request: Request, obj: ReviewRequest, *, url_kwargs: dict[str, Any]
    ) -> Response:
        """Close, reopen or edit the close description, and change extra_data: every value is
        checked, then the rights, before anything is stored; the service stores all of it in
        one transaction, deciding the rights again on the row it has locked."""
        data = validated(ReviewRequestUpdateInput, request.data, extra_data=obj.extra_data)
        user = request.user
        status = data.get("status")
        changes_extra_data = data["extra_data_fields"] is not None
        if changes_extra_data and not obj.is_mutable_by(user):
            raise self.no_access_error(request)
        if status is not None and not obj.is_status_mutable_by(user):
            raise self.no_access_error(request)
        description = data.get("close_description", data.get("description", ""))
        rich_text = data.get("text_type") == "markdown"
        obj = review_request_update(
            review_request=obj,
            user=user,
            status=None if status is None else STATUS_CODES[status],
            close_description=description,
            close_rich_text=rich_text,
            extra_data_fields=data["extra_data_fields"],
        )
        obj._rbapi_closed_now = status in ("submitted", "discarded")
        if obj._rbapi_closed_now:
            # The answer shows the close this request made, as Review Board's does: closing
            # again after a publish edits that publish's description, so a later GET still
            # shows the earlier close (replay, seed 3).
            obj.close_change = ChangeDescription(text=description, rich_text=rich_text)
        return self.item_response(request, obj, url_kwargs)

    def delete_object(self, request: Request, obj: ReviewRequest) -> None:
        review_request_delete(review_request=obj)


class ReviewRequestCreateInput(RBSerializer):
    """The fields of a review request's POST (spec: resources.md §1)."""

    extra_data = True
    repository = CharField(required=False, allow_blank=True, trim_whitespace=False)
    commit_id = CharField(required=False, allow_blank=True, trim_whitespace=False)
    changenum = IntegerField(required=False, allow_null=True)
    submit_as = CharField(required=False, allow_blank=True, trim_whitespace=False)
    create_with_history = BooleanField(required=False)


def check_update_choices(data: Any) -> None:
    """The choice fields of a review request's PUT, checked before anything else and
    reported together (Review Board lists the valid statuses in alphabetical order; the
    legacy ``text_type`` is reported as ``close_description_text_type``)."""
    problems: dict[str, list[str]] = {}
    status = data.get("status")
    if status is not None and str(status) not in STATUS_CODES:
        problems["status"] = [choice_message(str(status), sorted(STATUS_CODES))]
    text_type = data.get("close_description_text_type", data.get("text_type"))
    if text_type is not None and str(text_type) not in STORED_TEXT_TYPES:
        problems["close_description_text_type"] = [
            choice_message(str(text_type), STORED_TEXT_TYPES)
        ]
    if problems:
        raise form_error(problems)


class ReviewRequestUpdateInput(RBSerializer):
    """The fields of a review request's PUT: closing, reopening, the close description and
    its text type (``text_type`` is the legacy name, reported as
    ``close_description_text_type``), and extra_data."""

    extra_data = True
    status = ChoiceField(sorted(STATUS_CODES), required=False)
    close_description = CharField(required=False, allow_blank=True)
    description = CharField(required=False, allow_blank=True)
    close_description_text_type = CharField(required=False, trim_whitespace=False)
    text_type = CharField(required=False, trim_whitespace=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        text_type = attrs.pop("close_description_text_type", attrs.get("text_type"))
        if text_type is not None and text_type not in STORED_TEXT_TYPES:
            raise serializers.ValidationError(
                {"close_description_text_type": [choice_message(text_type, STORED_TEXT_TYPES)]}
            )
        attrs["text_type"] = text_type
        return attrs
