"""Leak tests: a private review request is invisible to whoever may not see it.

Four kinds of private review request: a never-published one (only its draft, though every
field a filter reads is set on it too), a never-published one that was discarded (so it has a
public change record and its draft's lists were copied onto it), a published one whose only
target group is invite-only, and a published one on a private repository. Each carries the
word ``HUSH`` in every text it owns (summary, description, reviews, replies, comments,
change descriptions, status updates) and depends on a visible control review request.

Three viewers who may not see it: anonymous, a logged-in user, and the same user through an
API token. For them the private request must be absent from every list, count, filter and
page, its children (changes, reviews, replies, comments, status updates, draft, last update)
must answer 401/103 or 403/101 with no ETag and none of its text, and the existence of the
private request must not change a single byte (hence the ETag) of what they are sent
(spec: resources.md §1 Permissions and filters, §5, §6; reliability.md §1.3-§1.4).
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from reviews.models import GeneralComment, Group, Repository, Review, ReviewRequest
from reviews.services import (
    reply_get_or_create_draft,
    review_get_or_create_draft,
    review_publish,
    review_request_close,
    review_request_create,
    review_request_publish,
)
from status_updates.models import StatusUpdate
from status_updates.services import status_update_create
from webapi.services import api_token_create

from ..conftest import assert_error, assert_ok, logged_in_client, make_user, rsp
from ..factories import make_review_request, update_and_publish

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded"
MARK = "HUSH"
RR_LIST = "/api/review-requests/"

UNPUBLISHED = "unpublished"
DISCARDED = "discarded-draft"
INVITE_ONLY = "invite-only"
PRIVATE_REPO = "private-repository"
KINDS = (UNPUBLISHED, DISCARDED, INVITE_ONLY, PRIVATE_REPO)
# Where each kind lives and whom it targets (besides the person ``insider``). Only one
# thing makes each one private.
SPECS: dict[str, dict[str, Any]] = {
    UNPUBLISHED: {"repository": "git", "group": "devs", "commit": "c-unpublished"},
    DISCARDED: {"repository": "git", "group": "devs", "commit": None},  # discarding clears it
    INVITE_ONLY: {"repository": "git", "group": "cabal", "commit": "c-invite"},
    PRIVATE_REPO: {"repository": "vault", "group": "devs", "commit": "c-vault"},
}
PUBLISHED = {INVITE_ONLY, PRIVATE_REPO}

ANONYMOUS, SESSION, TOKEN = "anonymous", "session", "api-token"
VIEWERS = (ANONYMOUS, SESSION, TOKEN)


# --- the world ------------------------------------------------------------------------------


@pytest.fixture
def world(owner, other, admin):
    """Users, groups, repositories and a visible control review request.

    * ``doc`` (owner) submits everything; ``grumpy`` (other) is the viewer who may see none
      of the private requests; ``admin`` is a superuser.
    * ``insider``: member of ``devs`` and of the invite-only ``cabal``, user of the private
      ``vault``, and a target person of every request.
    * ``crony``: member of ``cabal`` only. ``ally``: member of ``vaulters``, a group given
      access to ``vault``.
    """
    insider, crony, ally = make_user("insider"), make_user("crony"), make_user("ally")
    devs = Group.objects.create(name="devs", display_name="Devs")
    cabal = Group.objects.create(
        name="cabal", display_name="Cabal", invite_only=True, mailing_list="hush@example.com"
    )
    vaulters = Group.objects.create(name="vaulters", display_name="Vaulters")
    devs.users.add(insider)
    cabal.users.add(insider, crony)
    vaulters.users.add(ally)
    git = Repository.objects.create(name="git", path="/srv/git")
    vault = Repository.objects.create(name="vault", path="/srv/vault", public=False)
    vault.users.add(insider)
    vault.review_groups.add(vaulters)
    control = make_review_request(
        submitter=owner,
        repository=git,
        people=[insider],
        groups=[devs],
        summary="Visible control",
        description="Anyone may read this.",
        branch="leaky",
        publish=True,
    )
    # A Ship It and an open issue, so the ship-it and issue filters find the control too.
    review, _ = review_get_or_create_draft(review_request=control, user=insider)
    review.body_top, review.ship_it = "Looks good", True
    review.save()
    GeneralComment.objects.create(review=review, text="Nit", issue_opened=True, issue_status="O")
    review_publish(review=review)
    return SimpleNamespace(
        doc=owner,
        grumpy=other,
        admin=admin,
        insider=insider,
        crony=crony,
        ally=ally,
        groups={"devs": devs, "cabal": cabal, "vaulters": vaulters},
        repos={"git": git, "vault": vault},
        control=ReviewRequest.objects.get(pk=control.pk),
    )


def build_private(w: SimpleNamespace, kind: str) -> SimpleNamespace:
    """A private review request of ``kind`` with a change record (where one can exist), a
    review with an issue, a reply, comments on both, and a status update, all marked."""
    spec = SPECS[kind]
    group = w.groups[spec["group"]]
    rr = review_request_create(
        submitter=w.doc,
        repository=w.repos[spec["repository"]],
        commit_id=spec["commit"] or f"c-{kind}",
    )
    draft = rr.draft
    draft.summary = f"{MARK} {kind}"
    draft.description = f"{MARK} description"
    draft.testing_done = f"{MARK} testing"
    draft.branch = "leaky"
    draft.save()
    draft.target_people.set([w.insider])
    draft.target_groups.set([group])
    draft.depends_on.set([w.control])
    if kind in PUBLISHED:
        review_request_publish(review_request=rr, user=w.doc)
        rr = update_and_publish(
            rr, user=w.doc, summary=f"{MARK} {kind} v2", changedescription=f"{MARK} change"
        )
        reviewer, publish = w.insider, True
    else:
        # Nothing can be published on a never-published request: the reviews stay drafts
        # (the submitter's own).
        reviewer, publish = w.doc, False
    review, _ = review_get_or_create_draft(review_request=rr, user=reviewer)
    review.body_top, review.ship_it = f"{MARK} review", publish
    review.save()
    comment = GeneralComment.objects.create(
        review=review, text=f"{MARK} issue", issue_opened=True, issue_status="O"
    )
    if publish:
        review_publish(review=review)
    reply, _ = reply_get_or_create_draft(review=review, user=w.doc)
    reply.body_top, reply.body_top_reply_to = f"{MARK} reply", review
    reply.save()
    reply_comment = GeneralComment.objects.create(
        review=reply, text=f"{MARK} reply comment", reply_to=comment
    )
    if publish:
        review_publish(review=reply)
    if kind == DISCARDED:
        # Discarding a never-published request copies its draft onto it and records a
        # public change, while it stays unpublished.
        review_request_close(
            review_request=rr,
            user=w.doc,
            status=ReviewRequest.DISCARDED,
            description=f"{MARK} discarded",
        )
    elif kind == UNPUBLISHED:
        # Give the request itself what its draft holds, so every filter would match it: only
        # ``public=False`` may keep it out of other people's lists.
        rr = ReviewRequest.objects.get(pk=rr.pk)
        for name in ("summary", "description", "testing_done", "branch"):
            setattr(rr, name, getattr(draft, name))
        rr.save()
        rr.target_people.set([w.insider])
        rr.target_groups.set([group])
        rr.depends_on.set([w.control])
    if not publish:
        ReviewRequest.objects.filter(pk=rr.pk).update(shipit_count=1, issue_open_count=1)
    status_update = status_update_create(
        review_request=rr,
        user=reviewer,
        values={"service_id": "ci", "summary": f"{MARK} ci", "description": f"{MARK} log"},
    )
    rr = ReviewRequest.objects.get(pk=rr.pk)
    return SimpleNamespace(
        rr=rr,
        review=review,
        reply=reply,
        comment=comment,
        reply_comment=reply_comment,
        status_update=status_update,
        change=rr.changedescs.filter(public=True).first(),
    )


def client_for(w: SimpleNamespace, viewer: str) -> Client:
    if viewer == ANONYMOUS:
        return Client()
    if viewer == SESSION:
        return logged_in_client(w.grumpy)
    token = api_token_create(user=w.grumpy, note="x", policy={})
    return Client(HTTP_AUTHORIZATION=f"token {token.token}")


def denial(viewer: str) -> tuple[int, int]:
    return (401, 103) if viewer == ANONYMOUS else (403, 101)


def assert_hidden(response, viewer: str) -> None:
    """An access error that says nothing about the private request."""
    assert_error(response, *denial(viewer))
    assert MARK not in response.content.decode()
    assert not response.has_header("ETag")


def listed_ids(response) -> list[int]:
    body = assert_ok(response)
    return [item["id"] for item in body["review_requests"]]


# --- lists: the private request changes nothing a viewer is sent ----------------------------


def snapshot_urls(w: SimpleNamespace, kind: str) -> list[str]:
    """Every list, count, filter and page of review requests that would match the private
    request (with ``status=all``), plus the control's own views that name related requests."""
    spec = SPECS[kind]
    repository = w.repos[spec["repository"]].pk
    filters = [
        "from-user=doc",
        f"to-groups={spec['group']}",
        "to-users=insider",
        "to-users-directly=insider",
        "to-users-groups=insider",
        "to-user-groups=insider",
        f"repository={repository}",
        "branch=leaky",
        "ship-it=1",
        "ship-it-count-gte=1",
        "issue-open-count=1",
        "issue-open-count-gt=0",
        "time-added-from=2000-01-01",
        "last-updated-from=2000-01-01T00:00:00Z",
        "show-all-unpublished=1",
        "max-results=1",
        "expand=blocks,depends_on,target_groups",
    ]
    if spec["commit"]:
        filters.append(f"commit-id={spec['commit']}")
    queries = ["", "status=pending", "status=discarded", "status=all"]
    queries += [f"status=all&{f}" for f in filters]
    # Counts use the lists' query; count a few of them (the lists carry total_results).
    counted = [
        "",
        "status=all",
        "status=all&show-all-unpublished=1",
        "status=all&to-users=insider",
    ]
    counted += [f"status=all&to-groups={spec['group']}", f"status=all&repository={repository}"]
    queries += [f"counts-only=1&{q}" for q in counted]
    control = f"{RR_LIST}{w.control.pk}/"
    return [f"{RR_LIST}?{q}" if q else RR_LIST for q in queries] + [
        control,
        f"{control}?expand=blocks,depends_on",
        f"{control}last-update/",
        f"{control}changes/",
    ]


def should_list(kind: str, url: str) -> bool:
    """Whether the submitter's own view of ``url`` lists the private request."""
    if not url.startswith(f"{RR_LIST}?") and url != RR_LIST:
        return False
    if "status=discarded" in url:
        return kind == DISCARDED
    return "status=all" in url or kind != DISCARDED


def control_matches(kind: str, url: str) -> bool:
    spec = SPECS[kind]
    excluded = ["status=discarded", "commit-id="]
    if spec["group"] != "devs":
        excluded.append("to-groups=")
    if spec["repository"] != "git":
        excluded.append("repository=")
    return not any(part in url for part in excluded)


def take(client: Client, urls: list[str]) -> dict[str, tuple[Any, str]]:
    shots = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.content)
        shots[url] = (json.loads(response.content), response["ETag"])
    return shots


@pytest.mark.parametrize("kind", KINDS)
def test_lists_counts_and_etags_are_unchanged_by_a_private_request(world, kind):
    urls = snapshot_urls(world, kind)
    clients = {viewer: client_for(world, viewer) for viewer in VIEWERS}
    submitter = logged_in_client(world.doc)
    before = {viewer: take(client, urls) for viewer, client in clients.items()}
    submitter_before = take(submitter, urls)

    private = build_private(world, kind).rr

    for viewer, client in clients.items():
        after = take(client, urls)
        for url in urls:
            assert after[url][0] == before[viewer][url][0], (viewer, url)
            assert after[url][1] == before[viewer][url][1], (viewer, url)
            assert MARK not in json.dumps(after[url][0]), (viewer, url)
        # A poller's stored ETag still answers 304.
        for url in (RR_LIST, f"{RR_LIST}?status=all", f"{RR_LIST}?counts-only=1&status=all"):
            response = client.get(url, HTTP_IF_NONE_MATCH=before[viewer][url][1])
            assert response.status_code == 304, (viewer, url)
            assert response["ETag"] == before[viewer][url][1]
        # The lists are not simply empty: the control is there.
        for url in urls:
            body = after[url][0]
            if "review_requests" in body and control_matches(kind, url):
                ids = [item["id"] for item in body["review_requests"]]
                assert world.control.pk in ids, (viewer, url)
    # Every one of these filters does match the private request, for its submitter.
    submitter_after = take(submitter, urls)
    for url in urls:
        body, old = submitter_after[url][0], submitter_before[url][0]
        if "review_requests" in body:
            ids = [item["id"] for item in body["review_requests"]]
            assert (private.pk in ids) == should_list(kind, url), url
        elif "count" in body:
            listed = should_list(kind, url.replace("counts-only=1&", "").replace("?&", "?"))
            assert body["count"] - old["count"] == int(listed), url


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("kind", KINDS)
def test_total_results_and_paging_leave_it_out(world, kind, viewer):
    private = build_private(world, kind).rr
    client = client_for(world, viewer)
    body = assert_ok(client.get(f"{RR_LIST}?status=all&max-results=1"))
    assert body["total_results"] == 1
    assert [item["id"] for item in body["review_requests"]] == [world.control.pk]
    assert "next" not in body["links"]
    count = assert_ok(client.get(f"{RR_LIST}?status=all&counts-only=1"))
    assert count == {"stat": "ok", "count": 1}
    # The submitter's page of one is the private request, and there is a second page.
    mine = assert_ok(logged_in_client(world.doc).get(f"{RR_LIST}?status=all&max-results=1"))
    assert mine["total_results"] == 2
    assert [item["id"] for item in mine["review_requests"]] == [private.pk]


# --- the private request and everything under it --------------------------------------------


def child_urls(p: SimpleNamespace) -> list[str]:
    base = f"{RR_LIST}{p.rr.pk}/"
    review = f"{base}reviews/{p.review.pk}/"
    reply = f"{review}replies/{p.reply.pk}/"
    urls = [
        base,
        f"{base}?expand=depends_on,target_groups,target_people,draft,changes",
        f"{base}last-update/",
        f"{base}changes/",
        f"{base}changes/?counts-only=1",
        f"{base}draft/",
        f"{base}reviews/",
        f"{base}reviews/?counts-only=1",
        f"{base}reviews/draft/",
        review,
        f"{review}?expand=user",
        f"{review}replies/",
        f"{review}replies/draft/",
        reply,
        f"{review}general-comments/",
        f"{review}general-comments/?counts-only=1",
        f"{review}general-comments/{p.comment.pk}/",
        f"{review}diff-comments/",
        f"{reply}general-comments/",
        f"{reply}general-comments/{p.reply_comment.pk}/",
        f"{base}status-updates/",
        f"{base}status-updates/?counts-only=1",
        f"{base}status-updates/?service-id=ci",
        f"{base}status-updates/{p.status_update.pk}/",
    ]
    if p.change is not None:
        urls.append(f"{base}changes/{p.change.pk}/")
    return urls


# The caller's own drafts: 302 to them, or 100 when there are none.
DRAFT_URLS = ("/draft/",)


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("kind", KINDS)
def test_every_view_of_it_is_refused_without_an_etag(world, kind, viewer):
    p = build_private(world, kind)
    client = client_for(world, viewer)
    submitter = logged_in_client(world.doc)
    for url in child_urls(p):
        # The URL is right: its submitter reads it (the draft ones may be a 302 or a 100).
        mine = submitter.get(url)
        if url.endswith(DRAFT_URLS):
            assert mine.status_code in (200, 302, 404), (url, mine.content)
        else:
            assert mine.status_code == 200, (url, mine.content)
        response = client.get(url)
        assert_hidden(response, viewer)
        if mine.has_header("ETag"):
            # A stolen ETag is no way in: access is checked first.
            stolen = client.get(url, HTTP_IF_NONE_MATCH=mine["ETag"])
            assert_hidden(stolen, viewer)
    # The texts are really there for those who may read them.
    assert MARK in submitter.get(f"{RR_LIST}{p.rr.pk}/").content.decode()
    assert MARK in submitter.get(f"{RR_LIST}{p.rr.pk}/status-updates/").content.decode()


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("kind", KINDS)
def test_it_cannot_be_written_to(world, kind, viewer):
    p = build_private(world, kind)
    client = client_for(world, viewer)
    base = f"{RR_LIST}{p.rr.pk}/"
    review = f"{base}reviews/{p.review.pk}/"
    status_update = f"{base}status-updates/{p.status_update.pk}/"
    writes = [
        ("post", f"{base}reviews/", "body_top=hi&public=1"),
        ("post", f"{base}status-updates/", "service_id=bot&summary=hi"),
        ("put", status_update, "summary=hi"),
        ("delete", status_update, ""),
        ("post", f"{base}draft/", "summary=hi"),
        ("put", f"{base}draft/", "summary=hi&public=1"),
        ("delete", f"{base}draft/", ""),
        ("put", base, "status=discarded"),
        ("put", base, "extra_data.x=1"),
        ("delete", base, ""),
        ("post", f"{review}replies/", "body_top=hi"),
        ("put", review, "ship_it=0"),
        ("post", f"{review}general-comments/", "text=hi"),
        ("put", f"{review}general-comments/{p.comment.pk}/", "issue_status=resolved"),
    ]
    counts = (Review.objects.count(), GeneralComment.objects.count(), StatusUpdate.objects.count())
    for method, url, data in writes:
        response = getattr(client, method)(url, data, content_type=FORM)
        assert_error(response, *denial(viewer))
        assert MARK not in response.content.decode(), (method, url)
    assert counts == (
        Review.objects.count(),
        GeneralComment.objects.count(),
        StatusUpdate.objects.count(),
    )
    rr = ReviewRequest.objects.get(pk=p.rr.pk)
    assert (rr.status, rr.summary, rr.extra_data) == (p.rr.status, p.rr.summary, p.rr.extra_data)
    assert rr.last_updated == p.rr.last_updated
    assert StatusUpdate.objects.get(pk=p.status_update.pk).summary == f"{MARK} ci"


# --- who may see it does -------------------------------------------------------------------

SEES = [
    # kind, user, list query, in the list, item readable
    (UNPUBLISHED, "doc", "", True, True),
    (UNPUBLISHED, "insider", "", False, False),  # a target person, but it is unpublished
    (UNPUBLISHED, "admin", "", False, True),  # superusers list drafts only when asking
    (UNPUBLISHED, "admin", "show-all-unpublished=1", True, True),
    (UNPUBLISHED, "grumpy", "show-all-unpublished=1", False, False),
    (DISCARDED, "doc", "status=all", True, True),
    (DISCARDED, "doc", "status=discarded", True, True),
    (DISCARDED, "insider", "status=all", False, False),
    (DISCARDED, "admin", "status=all", False, True),
    (DISCARDED, "admin", "status=all&show-all-unpublished=1", True, True),
    (INVITE_ONLY, "doc", "", True, True),
    (INVITE_ONLY, "insider", "", True, True),  # member and target person
    (INVITE_ONLY, "crony", "", True, True),  # member only
    (INVITE_ONLY, "admin", "", True, True),
    (INVITE_ONLY, "ally", "", False, False),
    (PRIVATE_REPO, "doc", "", True, True),
    (PRIVATE_REPO, "insider", "", True, True),  # a user of the repository
    (PRIVATE_REPO, "ally", "", True, True),  # in a group given the repository
    (PRIVATE_REPO, "admin", "", True, True),
    (PRIVATE_REPO, "crony", "", False, False),
]


@pytest.mark.parametrize(("kind", "who", "query", "listed", "readable"), SEES)
def test_who_may_see_it(world, kind, who, query, listed, readable):
    private = build_private(world, kind).rr
    client = logged_in_client(getattr(world, who))
    ids = listed_ids(client.get(f"{RR_LIST}?{query}"))
    assert (private.pk in ids) == listed
    count = assert_ok(client.get(f"{RR_LIST}?counts-only=1&{query}"))["count"]
    assert count == len(ids)
    response = client.get(f"{RR_LIST}{private.pk}/")
    if readable:
        assert MARK in assert_ok(response)["review_request"]["summary"]
        assert response.has_header("ETag")
        assert_ok(client.get(f"{RR_LIST}{private.pk}/last-update/"))
    else:
        assert_hidden(response, SESSION)


# --- the private group and repository themselves --------------------------------------------


@pytest.mark.parametrize("viewer", VIEWERS)
def test_invite_only_group_and_private_repository_stay_hidden(world, viewer):
    for kind in (INVITE_ONLY, PRIVATE_REPO):
        build_private(world, kind)
    client = client_for(world, viewer)
    vault = world.repos["vault"].pk
    for url in (
        "/api/groups/",
        "/api/groups/?show-invisible=1",
        "/api/groups/?invite-only=1",
        "/api/groups/?q=cab",
        "/api/groups/?q=Cab&displayname=1",
    ):
        response = client.get(url)
        names = [group["name"] for group in assert_ok(response)["groups"]]
        assert "cabal" not in names, url
        assert "hush@example.com" not in response.content.decode()
    assert assert_ok(client.get("/api/groups/?invite-only=1&counts-only=1"))["count"] == 0
    assert "devs" in [g["name"] for g in assert_ok(client.get("/api/groups/"))["groups"]]
    for url in (
        "/api/groups/cabal/",
        "/api/groups/cabal/users/",
        "/api/groups/cabal/users/crony/",
    ):
        response = client.get(url)
        assert_hidden(response, viewer)
        assert "hush@example.com" not in response.content.decode()

    for url in (
        "/api/repositories/",
        "/api/repositories/?show-invisible=1&show-archived=1",
        "/api/repositories/?name=vault",
        "/api/repositories/?path=/srv/vault",
        "/api/repositories/?name-or-path=vault",
    ):
        response = client.get(url)
        names = [repo["name"] for repo in assert_ok(response)["repositories"]]
        assert "vault" not in names, url
        assert "/srv/vault" not in json.dumps(rsp(response)["repositories"])
    assert assert_ok(client.get("/api/repositories/?counts-only=1&name=vault"))["count"] == 0
    assert "git" in [
        r["name"] for r in assert_ok(client.get("/api/repositories/"))["repositories"]
    ]
    for url in (f"/api/repositories/{vault}/", f"/api/repositories/{vault}/info/"):
        assert_hidden(client.get(url), viewer)

    # The users who submitted and were asked to review say nothing about it either.
    for url in ("/api/users/", "/api/users/doc/", "/api/users/insider/", "/api/session/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert MARK not in response.content.decode()
        assert "cabal" not in response.content.decode()


def test_members_see_the_group_and_repository(world):
    expected = {
        "insider": ({"cabal", "devs", "vaulters"}, {"git", "vault"}),
        "crony": ({"cabal", "devs", "vaulters"}, {"git"}),
        "ally": ({"devs", "vaulters"}, {"git", "vault"}),
        "admin": ({"cabal", "devs", "vaulters"}, {"git", "vault"}),
        "grumpy": ({"devs", "vaulters"}, {"git"}),
    }
    vault = world.repos["vault"].pk
    for who, (groups, repositories) in expected.items():
        client = logged_in_client(getattr(world, who))
        body = assert_ok(client.get("/api/groups/"))
        assert {group["name"] for group in body["groups"]} == groups, who
        body = assert_ok(client.get("/api/repositories/"))
        assert {repo["name"] for repo in body["repositories"]} == repositories, who
        status = 200 if "cabal" in groups else 403
        assert client.get("/api/groups/cabal/").status_code == status, who
        status = 200 if "vault" in repositories else 403
        assert client.get(f"/api/repositories/{vault}/").status_code == status, who


# --- a control that names it ---------------------------------------------------------------


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("kind", KINDS)
def test_the_control_does_not_name_it(world, kind, viewer):
    """The private request depends on the control; the control's ``blocks`` (plain and
    expanded) show it to the submitter but never to the viewer."""
    private = build_private(world, kind).rr
    url = f"{RR_LIST}{world.control.pk}/?expand=blocks"
    body = assert_ok(client_for(world, viewer).get(url))
    assert body["review_request"]["blocks"] == []
    assert MARK not in json.dumps(body)
    # It is recorded as blocking the control: its submitter sees that.
    mine = assert_ok(logged_in_client(world.doc).get(url))
    assert [item["id"] for item in mine["review_request"]["blocks"]] == [private.pk]
    text = rsp(client_for(world, viewer).get(f"{RR_LIST}{world.control.pk}/changes/"))
    assert MARK not in json.dumps(text)
