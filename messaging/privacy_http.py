"""The secretariat's personal-data pages: erase a contact person, export what is held on someone.

Only the secretariat and admins may open them. E-mail addresses and names travel in POST bodies,
never in URLs, so they stay out of server logs and browser history. Erasing asks for an
explicit confirmation (a checked box) on a page that shows what will be erased.
"""

from __future__ import annotations

import json

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from accounts.http_common import secretariat_only
from core.db import utcnow
from core.i18n import gettext
from core.web import db_session
from directory.models import Contact
from directory.privacy import erase_contact, find_contacts
from messaging.privacy import export_person, record_export, summary

privacy = Blueprint("privacy", __name__, url_prefix="/secretariat/privacy")
MAX_EMAIL = 254


privacy.before_request(secretariat_only)


@privacy.get("/")
def index() -> str:
    """Find a contact person to erase, or a person whose data to export."""
    return render_template("secretariat/privacy.html", contacts=None, query="", errors={})


@privacy.post("/contacts")
def search_contacts() -> tuple[str, int]:
    """Contact persons whose name, e-mail or phone matches the text typed."""
    query = request.form.get("q", "").strip()[:200]
    errors = {}
    if len(query) < 3:
        errors["q"] = gettext("Type at least 3 characters of a name, e-mail address or phone.")
    contacts = [] if errors else find_contacts(db_session(), query)
    return render_template(
        "secretariat/privacy.html", contacts=contacts, query=query, errors=errors
    ), 422 if errors else 200


def _contact(contact_id: str) -> Contact:
    contact = None if len(contact_id) > 36 else db_session().get(Contact, contact_id)
    if contact is None:
        abort(404)
    return contact


@privacy.route("/contacts/<contact_id>/erase", methods=["GET", "POST"])
def erase(contact_id: str) -> str | Response | tuple[str, int]:
    """Show what erasing a contact person removes; erase it once confirmed."""
    contact = _contact(contact_id)
    error = None
    if request.method == "POST":
        if request.form.get("confirm") == "yes":
            organization = contact.organization
            result = erase_contact(db_session(), str(g.user.id), contact.id)
            db_session().commit()
            flash(
                gettext(
                    "The contact person was erased from %(organisation)s; "
                    "%(entries)s history entries were redacted.",
                    organisation=organization.name,
                    entries=result.audit_entries_redacted,
                ),
                "success",
            )
            return redirect(url_for("privacy.index"), code=303)
        error = gettext("Tick the box to confirm the erasure.")
    page = render_template("secretariat/privacy_erase.html", contact=contact, error=error)
    return (page, 422) if error else page


def _email() -> str:
    email = request.form.get("email", "").strip()
    if not email or "@" not in email or len(email) > MAX_EMAIL:
        abort(400, description=gettext("Give the person's e-mail address."))
    return email


@privacy.post("/export")
def export_summary() -> str:
    """A readable summary of what is held on the person with this e-mail address."""
    email = _email()
    export = export_person(db_session(), email, utcnow())
    return render_template(
        "secretariat/privacy_export.html", export=export, counts=summary(export), email=email
    )


@privacy.post("/export.json")
def export_download() -> Response:
    """The full export as a JSON file; the download is noted in the audit history."""
    email = _email()
    now = utcnow()
    export = export_person(db_session(), email, now)
    record_export(db_session(), str(g.user.id), export)
    db_session().commit()
    name = f"liaison-personal-data-{now:%Y-%m-%d}.json"
    return Response(
        json.dumps(export, indent=2, ensure_ascii=False),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
