"""The commits of history diffs: ``/api/validation/commits/``,
``…/draft/diffs/{rev}/draft-commits/[{commit_id}/]`` and ``…/diffs/{rev}/commits/[{commit_id}/]``
(spec: code-and-files.md §2, §4.4; golden 028-030, 085-090, 096-098).

A review request created with history takes its diff commit by commit: an empty draft diff,
then one POST per commit to ``draft-commits/``, then a PUT of the draft diff with
``finalize_commit_series`` (in ``diffs.resources``). Commits are addressed by their SHA, never
by pk; ``Accept: text/x-patch`` on a commit returns its own diff byte for byte.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.request import Request
from rest_framework.response import Response

from core.extra_data import apply_extra_data_changes
from diffs.history import (
    ValidationInfo,
    ValidationInfoError,
    decode_validation_info,
    encode_validation_info,
)
from diffs.models import DiffCommit, DiffSet, FileDiff, created_with_history
from diffs.parser import DiffParseError
from diffs.resources import (
    PatchMixin,
    UploadValidationResource,
    _find_repository,
    _too_large,
    _upload,
    patch_response,
    wants_patch,
)
from diffs.services import (
    CheckedDiff,
    CommitParentMissingError,
    CommitSeriesError,
    DiffEmptyError,
    DiffFileMissingError,
    DiffTooLargeError,
    DuplicateCommitError,
    check_commit,
    diff_extra_data_update,
    diffcommit_create,
    validate_commit,
)
from rbapi import errors, inputs
from rbapi.errors import WebAPIException, form_error
from rbapi.fields import ExtraDataField, Field, SerializeContext
from rbapi.inputs import validated
from rbapi.links import absolute, fill_template, link
from rbapi.registry import get_resource
from rbapi.resources import WebAPIResource
from reviews.models import Repository

#: Tools whose commits have no committer of their own (Review Board asks Git for one).
NO_COMMITTER_TOOLS = frozenset({"Mercurial"})
NOT_HISTORY = "This review request was not created with support for multiple commits."
BAD_DATE = "This timestamp is not a valid ISO 8601 date/time"
REQUIRED_FORM = "This field is required."


def check_errors(call: Any) -> CheckedDiff:
    """Run a commit check, answering its failures as validation does (219, 220, 224, 207)."""
    try:
        return call()
    except DiffEmptyError:
        raise WebAPIException(errors.DIFF_EMPTY) from None
    except DiffTooLargeError:
        raise _too_large() from None
    except DiffParseError as exc:
        raise WebAPIException(
            errors.DIFF_PARSE_ERROR, extra={"linenum": exc.linenum, "reason": exc.reason}
        ) from None
    except DiffFileMissingError as exc:
        raise WebAPIException(
            errors.REPO_FILE_NOT_FOUND, extra={"file": exc.filename, "revision": exc.revision}
        ) from None
    except CommitParentMissingError as exc:
        # Review Board passes git's own words on (spec §2).
        raise WebAPIException(errors.DIFF_PARSE_ERROR, str(exc)) from None


def _validation_info(raw: str | None) -> ValidationInfo:
    try:
        return decode_validation_info(raw)
    except ValidationInfoError as exc:
        raise form_error({"validation_info": [str(exc)]}) from None


def _required_files(request: Request, names: tuple[str, ...]) -> dict[str, list[str]]:
    return {
        name: [inputs.REQUIRED]
        for name in names
        if not isinstance(request.FILES.get(name), UploadedFile)
    }


# --- validation ------------------------------------------------------------------------------
class CommitValidationInput(inputs.RBSerializer):
    repository = inputs.CharField()
    commit_id = inputs.CharField(max_length=64)
    parent_id = inputs.CharField(max_length=64)
    base_commit_id = inputs.CharField(required=False, allow_blank=True, max_length=64)
    validation_info = inputs.CharField(required=False, allow_blank=True)


class CommitValidationResource(UploadValidationResource):
    """``/api/validation/commits/``: would this commit upload? 200 with the history so far
    (``validation_info``), or the error the upload would get."""

    name = "commit_validation"
    uri_name = "commits"

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        values, problems = inputs.validation_problems(CommitValidationInput, request.data)
        problems.update(_required_files(request, ("diff",)))
        if problems:
            raise form_error(dict(sorted(problems.items())))
        info = _validation_info(values.get("validation_info"))
        repository: Repository = _find_repository(request, values["repository"])
        diff = _upload(request, "diff") or b""
        parent_diff = _upload(request, "parent_diff") or b""
        info = check_errors(
            lambda: validate_commit(
                repository=repository,
                commit_id=values["commit_id"],
                parent_id=values["parent_id"],
                diff=diff,
                parent_diff=parent_diff,
                validation_info=info,
            )
        )
        return Response({"commit_validation": {"validation_info": encode_validation_info(info)}})


# --- commits ---------------------------------------------------------------------------------
class DraftCommitRequiredInput(inputs.RBSerializer):
    """What every commit upload needs (Review Board's resource-level check: no period)."""

    commit_id = inputs.CharField(max_length=64)
    commit_message = inputs.CharField()
    author_name = inputs.CharField(max_length=256)
    author_email = inputs.CharField(max_length=256)
    author_date = inputs.CharField()


class DraftCommitInput(inputs.RBSerializer):
    """The rest, checked once the required fields are there (form-level: with a period)."""

    extra_data = True
    parent_id = inputs.CharField(required=False, allow_blank=True, max_length=64)
    committer_name = inputs.CharField(required=False, allow_blank=True, max_length=256)
    committer_email = inputs.CharField(required=False, allow_blank=True, max_length=256)
    committer_date = inputs.CharField(required=False, allow_blank=True)
    validation_info = inputs.CharField(required=False, allow_blank=True)


class CommitUpdateInput(inputs.RBSerializer):
    extra_data = True


def _parse_date(value: str) -> datetime.datetime | None:
    try:
        parsed = parse_datetime(value.strip())
    except ValueError:
        return None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed


def _stored_history(diffset: DiffSet) -> ValidationInfo:
    """The trees of the commits already uploaded to ``diffset`` (one query), so that a
    commit building on them is checked even when the client sends no ``validation_info``."""
    info: ValidationInfo = {}
    for filediff in FileDiff.objects.filter(diffset=diffset, commit__isnull=False).select_related(
        "commit"
    ):
        commit = filediff.commit
        entry = info.setdefault(
            commit.commit_id, {"parent_id": commit.parent_id, "tree": {"modified": []}}
        )
        if filediff.status != FileDiff.DELETED:
            entry["tree"]["modified"].append(
                {"filename": filediff.dest_file, "revision": filediff.dest_detail}
            )
    return info


class DiffCommitResource(PatchMixin, WebAPIResource):
    """``…/diffs/{rev}/commits/``: the commits of a public history diff."""

    name = "commit"
    model = DiffCommit
    uri_object_key = "commit_id"
    uri_object_key_regex = r"[^/]+"
    model_object_key = "commit_id"
    link_key = "commits"
    item_methods = ("GET", "PUT")
    uri_template_names = ("commit", "diff_commit")
    # ``commits`` names the repository's commits in Review Board's templates.
    uri_template_list_names = ("diff_commits",)
    ordering = ("pk",)
    list_select_related = ("diffset__review_request",)
    files_resource = "file_diff"
    files_link = "files"
    capabilities = {"review_requests": {"supports_history": True}}
    fields = (
        Field("author_date"),
        Field("author_email"),
        Field("author_name"),
        Field("commit_id"),
        Field("commit_message"),
        Field("committer_date"),
        Field("committer_email"),
        Field("committer_name"),
        ExtraDataField(),
        Field("filename"),
        Field("id"),
        Field("parent_id"),
    )

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        return DiffCommit.objects.filter(diffset=parent).select_related("diffset__review_request")

    def parent_of(self, obj: DiffCommit) -> DiffSet:
        return obj.diffset

    def has_modify_permissions(self, request: Request, obj: DiffCommit) -> bool:
        return obj.is_mutable_by(request.user)

    def get_related_links(self, obj: DiffCommit, ctx: SerializeContext) -> dict[str, Any]:
        files = get_resource(self.files_resource)
        diff = get_resource(self.parent_resource_class.name)
        path = fill_template(
            files.list_template, {**ctx.url_kwargs, **diff.object_url_kwargs(obj.diffset)}
        )
        return {self.files_link: link(absolute(ctx.request, f"{path}?commit-id={obj.commit_id}"))}

    def get_last_modified(self, obj: DiffCommit) -> datetime.datetime:
        return obj.timestamp  # as its patch (golden-files 097)

    def get_item(self, request: Request, **kwargs: Any) -> Any:
        obj = self.get_object(request, kwargs)
        if wants_patch(request):
            return patch_response(
                request,
                bytes(obj.diff),
                filename=f"{obj.commit_id}.patch",
                timestamp=obj.timestamp,
            )
        return super().get_item(request, **kwargs)

    def update(self, request: Request, obj: DiffCommit, *, url_kwargs: dict[str, Any]) -> Response:
        values = validated(CommitUpdateInput, request.data, extra_data=obj.extra_data)
        if values.get("extra_data_fields"):
            obj = diff_extra_data_update(obj=obj, extra_data_fields=values["extra_data_fields"])
        return self.item_response(request, obj, url_kwargs)


class DraftDiffCommitResource(DiffCommitResource):
    """``…/draft/diffs/{rev}/draft-commits/``: the commits uploaded so far; POST adds one."""

    name = "draft_commit"
    uri_name = "draft-commits"
    link_key = "draft_commits"
    list_methods = ("GET", "POST")
    # Draft sub-resources have no uri_templates (spec §0).
    uri_template_names = ()
    uri_template_list_names = ()
    files_resource = "draft_file_diff"
    files_link = "draft_files"
    capabilities = {}

    def create(self, request: Request, *, parent: DiffSet, url_kwargs: dict[str, Any]) -> Response:
        diffset = parent
        if not diffset.is_mutable_by(request.user):
            raise self.no_access_error(request)
        review_request = diffset.review_request
        if not created_with_history(review_request):
            raise WebAPIException(errors.INVALID_ATTRIBUTE, extra={"reason": NOT_HISTORY})
        values = self._required(request)
        values.update(self._form(request, review_request.repository))
        info = {**_stored_history(diffset), **values.pop("validation_info")}
        if diffset.commit_series_finalized:
            raise WebAPIException(
                errors.INVALID_ATTRIBUTE, extra={"reason": "This diff is already finalized."}
            )
        diff = _upload(request, "diff") or b""
        parent_diff = _upload(request, "parent_diff") or b""
        checked = check_errors(
            lambda: check_commit(
                repository=review_request.repository,
                diff=diff,
                parent_diff=parent_diff,
                parent_id=values.get("parent_id", ""),
                validation_info=info,
            )
        )
        try:
            commit = diffcommit_create(
                diffset=diffset,
                user=request.user,
                checked=checked,
                filename=request.FILES["diff"].name or "diff",
                diff=diff,
                parent_diff=parent_diff,
                **values,
            )
        except DuplicateCommitError:
            raise form_error(
                {"commit_id": ["A commit with this ID has already been uploaded to this diff."]}
            ) from None
        except CommitSeriesError as exc:
            raise WebAPIException(errors.INVALID_ATTRIBUTE, extra={"reason": str(exc)}) from None
        commit = DiffCommit.objects.select_related("diffset__review_request").get(pk=commit.pk)
        return self.item_response(request, commit, url_kwargs, status=201)

    @staticmethod
    def _required(request: Request) -> dict[str, Any]:
        values, problems = inputs.validation_problems(DraftCommitRequiredInput, request.data)
        problems.update(_required_files(request, ("diff",)))
        if problems:
            raise form_error(dict(sorted(problems.items())))
        return values

    @staticmethod
    def _form(request: Request, repository: Repository) -> dict[str, Any]:
        """The form-level checks: committer (for tools whose commits have one), dates,
        ``validation_info`` and extra_data, every problem at once."""
        values, problems = inputs.validation_problems(
            DraftCommitInput, request.data, extra_data={}
        )
        if repository.tool not in NO_COMMITTER_TOOLS:
            for name in ("committer_date", "committer_email", "committer_name"):
                if not str(request.data.get(name) or "").strip():
                    problems.setdefault(name, [REQUIRED_FORM])
        dates: dict[str, datetime.datetime | None] = {}
        for name in ("author_date", "committer_date"):
            raw = str(request.data.get(name) or "").strip()
            if raw and name not in problems:
                dates[name] = _parse_date(raw)
                if dates[name] is None:
                    problems[name] = [BAD_DATE]
        try:
            info = decode_validation_info(values.get("validation_info"))
        except ValidationInfoError as exc:
            problems["validation_info"] = [str(exc)]
        if problems:
            raise form_error(dict(sorted(problems.items())))
        return {
            "author_date": dates["author_date"],
            "parent_id": values.get("parent_id", ""),
            "committer_name": values.get("committer_name", ""),
            "committer_email": values.get("committer_email", ""),
            "committer_date": dates.get("committer_date"),
            "validation_info": info,
            "extra_data": apply_extra_data_changes({}, values.get("extra_data_fields") or {}),
        }
