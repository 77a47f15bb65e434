"""The secretariat's upkeep screens: the change-request queue with its side-by-side review, and
the list of entries due or overdue for verification.

Secretariat and admins only (403 for other roles; anonymous visitors are sent to sign in). The
proposer is told of a decision by an e-mail queued in the mail outbox in the decision's own
transaction (sent after the commit, retried until the SMTP server accepts it).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from accounts.http_common import secretariat_only
from accounts.mails import user_locale
from accounts.models import Role, User
from core.db import utcnow
from core.i18n import gettext, ngettext
from core.mail import MailError
from core.mail_outbox import enqueue
from core.web import db_session, settings
from directory import changes, forms, verification
from directory.errors import InvalidDirectoryInput, OrganisationNotFound
from directory.models import ChangeRequest, Organization
from directory.upkeep_mails import decision_mail

log = logging.getLogger("liaison.directory.upkeep")
upkeep_secretariat = Blueprint("upkeep_secretariat", __name__, url_prefix="/secretariat")
STATUSES = ("pending", "approved", "rejected", "withdrawn")


upkeep_secretariat.before_request(secretariat_only)


def upkeep_counts() -> dict[str, int]:
    """Pending proposals and overdue entries, for the secretariat's navigation badges."""
    user = g.get("user")
    if user is None or not user.has_role(Role.SECRETARIAT):
        return {"pending": 0, "overdue": 0}
    session = db_session()
    today = verification.brussels_day(utcnow())
    return {
        "pending": changes.pending_count(session),
        "overdue": len(verification.overdue_organisations(session, today)),
    }


@upkeep_secretariat.get("/changes")
def queue() -> str:
    """Proposed changes, the pending ones first and oldest first."""
    status = request.args.get("status", "pending")
    status = status if status in (*STATUSES, "all") else "pending"
    session = db_session()
    rows = changes.list_requests(session, status=None if status == "all" else status)
    organisations = {
        row.organization_id: session.get(Organization, row.organization_id) for row in rows
    }
    proposers = {
        row.proposer_id: session.get(User, row.proposer_id) for row in rows if row.proposer_id
    }
    return render_template(
        "secretariat/changes.html",
        rows=rows,
        organisations=organisations,
        proposers=proposers,
        status=status,
        statuses=STATUSES,
    )


def _request(request_id: str) -> ChangeRequest:
    try:
        return changes.get_request(db_session(), request_id)
    except changes.ChangeRequestNotFound:
        abort(404)


def _review(
    row: ChangeRequest,
    errors: dict[str, str] | None = None,
    conflict: bool = False,
    status: int = 200,
) -> Any:
    session = db_session()
    organization = session.get(Organization, row.organization_id)
    if organization is None:
        abort(404)
    proposer = session.get(User, row.proposer_id) if row.proposer_id else None
    reviewer = session.get(User, row.reviewer_id) if row.reviewer_id else None
    diffs = changes.diff(session, row)
    return render_template(
        "secretariat/change_review.html",
        row=row,
        change_org=organization,
        proposer=proposer,
        reviewer=reviewer,
        diffs=diffs,
        conflicts=[d for d in diffs if d.conflict],
        current=changes.review_fingerprint(session, row),
        errors=errors or {},
        refused_conflict=conflict,
        note=request.form.get("review_note", ""),
    ), status


@upkeep_secretariat.get("/changes/<request_id>")
def review(request_id: str) -> Any:
    """One proposal side by side: the value when proposed, now, and proposed."""
    return _review(_request(request_id))


@upkeep_secretariat.post("/changes/<request_id>/approve")
def approve(request_id: str) -> Any:
    """Apply the proposal (refused while a conflict is not confirmed)."""
    row = _request(request_id)
    session = db_session()
    confirmed = (
        request.form.get("current") if request.form.get("confirm_conflicts") == "on" else None
    )
    try:
        applied = changes.approve(
            session,
            g.user,
            row.id,
            note=request.form.get("review_note"),
            confirmed=confirmed,
            now=utcnow(),
        )
    except changes.NotPending:
        session.rollback()
        abort(409, description="This proposal was already decided or withdrawn.")
    except changes.ChangeConflict:
        session.rollback()
        return _review(_request(request_id), conflict=True, status=409)
    except InvalidDirectoryInput as error:
        session.rollback()
        return _review(_request(request_id), forms.error_texts(error.errors, gettext), status=422)
    _tell_proposer(row)
    session.commit()
    flash(
        ngettext(
            "Approved and applied: %(count)s field changed.",
            "Approved and applied: %(count)s fields changed.",
            len(applied.fields),
        ),
        "success",
    )
    return redirect(url_for("upkeep_secretariat.queue"), code=303)


@upkeep_secretariat.post("/changes/<request_id>/reject")
def reject(request_id: str) -> Any:
    """Turn the proposal down with a note to the proposer."""
    row = _request(request_id)
    session = db_session()
    try:
        changes.reject(session, g.user, row.id, note=request.form.get("review_note"), now=utcnow())
    except changes.NotPending:
        session.rollback()
        abort(409, description="This proposal was already decided or withdrawn.")
    except InvalidDirectoryInput as error:
        session.rollback()
        return _review(_request(request_id), forms.error_texts(error.errors, gettext), status=422)
    _tell_proposer(row)
    session.commit()
    flash(gettext("Rejected; the proposer is told why."), "success")
    return redirect(url_for("upkeep_secretariat.queue"), code=303)


def _tell_proposer(row: ChangeRequest) -> None:
    """Queue the decision's e-mail to the proposer in the decision's transaction."""
    session = db_session()
    proposer = session.get(User, row.proposer_id) if row.proposer_id else None
    organization = session.get(Organization, row.organization_id)
    if proposer is None or not proposer.is_active or organization is None:
        return
    link = settings().base_url.rstrip("/") + url_for("upkeep.proposal", request_id=row.id)
    try:
        enqueue(
            session,
            decision_mail(
                proposer.email,
                organization,
                row,
                link,
                user_locale(proposer, settings().default_locale),
            ),
            f"change-decision:{row.id}",
        )
    except MailError:
        log.warning("could not e-mail the decision on change request %s", row.id)
        flash(
            gettext("The proposer could not be e-mailed; the decision is on their proposals page."),
            "warning",
        )


@upkeep_secretariat.get("/verification")
def verification_list() -> str:
    """Entries overdue for review, and those due soon (their contact points are asked)."""
    session = db_session()
    today = verification.brussels_day(utcnow())
    lead = settings().verification_lead_days
    overdue = verification.overdue_rows(session, today)
    soon = [
        (o, verification.due_on(o), verification.open_request(session, o))
        for o in verification.organisations_due(session, today + timedelta(days=lead))
        if verification.due_on(o) >= today
    ]
    return render_template(
        "secretariat/verification.html", overdue=overdue, soon=soon, today=today, lead=lead
    )


@upkeep_secretariat.errorhandler(OrganisationNotFound)
def _not_found(_error: OrganisationNotFound) -> tuple[str, int]:
    db_session().rollback()
    return render_template("error.html", code=404, title="Not found", detail=None), 404
