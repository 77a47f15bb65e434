"""Members' upkeep pages: propose a change to one's own organisation, follow one's proposals, and
the verification link's page.

Every route needs a signed-in person; proposing and confirming need the contact-point role (or
organisation editor) AND membership of that organisation, checked here and again in the services.
A link alone changes nothing: its page asks for sign-in first and then for a click.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Flask, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from core.db import utcnow
from core.i18n import current_locale, gettext
from core.web import db_session, settings
from directory import changes, forms, verification
from directory.changes import FIELD_LABELS, FLAG_FIELDS, LIST_FIELDS
from directory.errors import InvalidDirectoryInput
from directory.models import ChangeRequest, Organization
from directory.taxonomy import load_taxonomy
from directory.upkeep_mails import display_value
from directory.visibility import can_see_organization, viewer_for

upkeep = Blueprint("upkeep", __name__)
STATUS_LABELS = {
    "pending": "Waiting for the secretariat",
    "approved": "Approved",
    "rejected": "Not approved",
    "withdrawn": "Withdrawn",
}
LINK_PROBLEMS = {
    "invalid": (
        404,
        "This link is not valid",
        "Check that you copied the whole link from the e-mail.",
    ),
    "expired": (
        410,
        "This link has expired",
        "Ask the secretariat for a new one, or propose a change from your organisation's page.",
    ),
    "used": (
        410,
        "This link was already used",
        "The entry was confirmed with it. "
        "You can still propose a change from your organisation's page.",
    ),
}


def _sign_in_first() -> Response | None:
    if g.get("user") is None:
        return redirect("/login?next=" + quote(request.full_path.rstrip("?")), code=303)
    return None


@upkeep.before_request
def _signed_in_only() -> Response | None:
    return _sign_in_first()


@upkeep.context_processor
def _choices() -> dict[str, Any]:
    return {"vocabulary": load_taxonomy().vocabulary}


def form_name(field: str) -> str:
    """The form input of a proposable field (``description.fr`` → ``description_fr``)."""
    return field.replace(".", "_")


def proposal_form(organization: Organization) -> dict[str, Any]:
    """Form values showing the organisation's proposable fields as they stand."""
    return {form_name(name): value for name, value in changes.current_values(organization).items()}


def proposal_values(form: MultiDict[str, str], fields: list[str]) -> dict[str, Any]:
    """The posted proposal, keyed like ``changes.FIELD_LABELS`` (unticked boxes are False)."""
    values: dict[str, Any] = {}
    for name in fields:
        if name in FLAG_FIELDS:
            values[name] = form.get(name) == "on"
        elif name in LIST_FIELDS:
            values[name] = form.getlist(name)
        else:
            values[name] = form.get(form_name(name), "")
    return values


def _organisation(key: str) -> Organization:
    """The person's own organisation by id or ref: 404 when unknown (or invisible), else 403."""
    organization = None
    if len(key) <= 100:
        statement = select(Organization).where((Organization.id == key) | (Organization.ref == key))
        organization = db_session().scalars(statement).first()
    if organization is None:
        abort(404)
    if not verification.may_act_for(g.user, organization.id):
        if not can_see_organization(viewer_for(g.user), organization):
            abort(404)
        abort(403, description="Only the organisation's contact points and editors can do this.")
    return organization


@upkeep.route("/organisations/<key>/propose", methods=["GET", "POST"])
def propose(key: str) -> Any:
    """Propose a change to one's own organisation's entry."""
    organization = _organisation(key)
    fields = changes.proposable_fields(organization)
    token = request.values.get("verification", "")[:200]
    values, errors, status = proposal_form(organization), {}, 200
    problem: str | None = None
    if request.method == "POST":
        session, now = db_session(), utcnow()
        note = request.form.get("proposer_note", "")
        try:
            proposal = changes.propose(
                session,
                g.user,
                organization.id,
                proposal_values(request.form, fields),
                note,
                now=now,
            )
            _use_link_for_correction(token, organization, now)
            session.commit()
        except InvalidDirectoryInput as error:
            session.rollback()
            errors, status = forms.error_texts(error.errors, gettext), 422
        except changes.NothingToChange:
            session.rollback()
            problem, status = gettext("Nothing differs from the entry as it stands."), 422
        else:
            flash(gettext("Your proposal was sent to the secretariat."), "success")
            return redirect(url_for("upkeep.proposal", request_id=proposal.id), code=303)
        values = forms.posted_form(request.form)
    return render_template(
        "directory/propose.html",
        org=organization,
        values=values,
        errors=errors,
        problem=problem,
        fields=fields,
        verification_token=token,
        note=request.form.get("proposer_note", ""),
    ), status


def _use_link_for_correction(token: str, organization: Organization, now: Any) -> None:
    """A proposal sent from a verification link also answers that link (outcome: corrected)."""
    if not token:
        return
    try:
        link = verification.read_link(db_session(), settings().secret_key, token, now)
        if link.organization_id == organization.id:
            verification.use_link(db_session(), g.user, link, now, outcome="corrected")
    except verification.LinkRefused:
        return  # used or expired meanwhile: the proposal still goes to the secretariat


@upkeep.get("/proposals")
def proposals() -> str:
    """The person's own proposals with their status, and their organisations to propose for."""
    rows = changes.list_requests(db_session(), proposer_id=g.user.id)
    names = _names({row.organization_id for row in rows})
    own = sorted(
        (o for o in g.user.organizations if verification.may_act_for(g.user, o.id)),
        key=lambda o: o.name,
    )
    return render_template("directory/proposals.html", rows=rows, names=names, own=own)


def _names(ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    statement = select(Organization.id, Organization.name).where(Organization.id.in_(ids))
    return {str(id_): str(name) for id_, name in db_session().execute(statement)}


def _own_request(request_id: str) -> ChangeRequest:
    try:
        proposal = changes.get_request(db_session(), request_id)
    except changes.ChangeRequestNotFound:
        abort(404)
    if proposal.proposer_id != g.user.id:
        abort(404)  # someone else's proposal: not even its existence is shown
    return proposal


@upkeep.get("/proposals/<request_id>")
def proposal(request_id: str) -> str:
    """One of the person's proposals: what was proposed, and the decision."""
    row = _own_request(request_id)
    organization = db_session().get(Organization, row.organization_id)
    return render_template(
        "directory/proposal.html",
        row=row,
        org=organization,
        diffs=changes.diff(db_session(), row),
    )


@upkeep.post("/proposals/<request_id>/withdraw")
def withdraw(request_id: str) -> Response:
    """Take back a pending proposal."""
    row = _own_request(request_id)
    try:
        changes.withdraw(db_session(), g.user, row.id, utcnow())
    except changes.NotPending:
        db_session().rollback()
        abort(409, description="This proposal was already decided or withdrawn.")
    db_session().commit()
    flash(gettext("Your proposal was withdrawn."), "success")
    return redirect(url_for("upkeep.proposals"), code=303)


def _link_problem(reason: str) -> tuple[str, int]:
    code, title, detail = LINK_PROBLEMS[reason]
    return render_template("directory/verify_problem.html", title=title, detail=detail), code


@upkeep.route("/verify/<token>", methods=["GET", "POST"])
def verify(token: str) -> Any:
    """The verification link: confirm the entry as current, or go on to propose corrections."""
    session, now = db_session(), utcnow()
    try:
        link = verification.read_link(session, settings().secret_key, token, now)
    except verification.LinkRefused as refused:
        return _link_problem(refused.reason)
    organization = session.get(Organization, link.organization_id)
    if organization is None:
        abort(404)
    if not verification.may_act_for(g.user, organization.id):
        abort(
            403,
            description="Only the organisation's contact points and editors can confirm its entry.",
        )
    if request.method == "POST":
        try:
            verification.use_link(session, g.user, link, now)
        except verification.LinkRefused as refused:  # another click got there first
            session.rollback()
            return _link_problem(refused.reason)
        session.commit()
        flash(gettext("Thank you: the entry is confirmed as current."), "success")
        return redirect(url_for("directory.organisation", key=organization.ref), code=303)
    return render_template(
        "directory/verify.html",
        org=organization,
        link=link,
        token=token,
        values=changes.current_values(organization),
        fields=changes.proposable_fields(organization),
    )


def _may_propose(organization_id: str) -> bool:
    return verification.may_act_for(g.get("user"), organization_id)


def _show_value(field: str, value: Any) -> str:
    return display_value(field, value, current_locale(), gettext)


def init_upkeep(app: Flask) -> None:
    """Register the upkeep pages (members' and the secretariat's) and their template helpers."""
    from directory.upkeep_secretariat import upkeep_counts, upkeep_secretariat

    app.jinja_env.globals.update(
        may_propose=_may_propose,
        upkeep_counts=upkeep_counts,
        show_value=_show_value,
        FIELD_LABELS=FIELD_LABELS,
        CHANGE_STATUS_LABELS=STATUS_LABELS,
        proposal_field_name=form_name,
    )
    app.register_blueprint(upkeep)
    app.register_blueprint(upkeep_secretariat)
