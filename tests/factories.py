"""Keyword-only builders of review data, through the same services the API uses."""

from __future__ import annotations

from typing import Any

from reviews.models import ReviewRequest
from reviews.services import draft_get_or_create, review_request_create, review_request_publish


def make_review_request(
    *, submitter, publish: bool = False, people=(), groups=(), repository=None, **values: Any
) -> ReviewRequest:
    """A review request whose draft holds ``values`` (with a summary and description by
    default), published when asked."""
    review_request = review_request_create(submitter=submitter, repository=repository)
    draft = review_request.draft
    values = {"summary": "Add frobnicator", "description": "Adds a frobnicator.", **values}
    for name, value in values.items():
        setattr(draft, name, value)
    draft.save()
    draft.target_people.set(people)
    draft.target_groups.set(groups)
    if publish:
        review_request_publish(review_request=review_request, user=submitter)
    return ReviewRequest.objects.get(pk=review_request.pk)


def update_and_publish(
    review_request: ReviewRequest, *, user, changedescription: str = "", people=None, **values: Any
) -> ReviewRequest:
    """Edit a published review request through its draft and publish the change."""
    draft = draft_get_or_create(review_request=review_request)
    for name, value in values.items():
        setattr(draft, name, value)
    draft.save()
    if people is not None:
        draft.target_people.set(people)
    if changedescription:
        draft.changedesc.text = changedescription
        draft.changedesc.save()
    review_request_publish(review_request=review_request, user=user)
    return ReviewRequest.objects.get(pk=review_request.pk)
