"""The secretariat's screens: list, create, edit, publish organisations, their services,
contact points and address, and each organisation's audit history.

Only the secretariat and admins may open them (403 for other roles; anonymous visitors are sent
to sign in). Each view parses the form, calls a service, commits once, and redirects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from accounts.http_common import secretariat_only
from core.i18n import gettext, ngettext
from core.web import db_session
from directory import children, forms, queries, services
from directory.errors import InvalidDirectoryInput, OrganisationNotFound
from directory.models import Contact, Organization, Service
from directory.taxonomy import load_taxonomy
from directory.validation import VERIFICATION_STATUSES
from directory.visibility import viewer_for

secretariat = Blueprint("secretariat", __name__, url_prefix="/secretariat")
PUBLISHED_FILTERS = ("published", "unpublished")


secretariat.before_request(secretariat_only)


@secretariat.context_processor
def _choices() -> dict[str, Any]:
    taxonomy = load_taxonomy()
    return {
        "vocabulary": taxonomy.vocabulary,
        "verification_statuses": VERIFICATION_STATUSES,
        "network_countries": ("BE", "NL", "LU"),
    }


def _actor() -> str:
    return str(g.user.id)


def _organisation(organisation_id: str) -> Organization:
    organization = (
        None if len(organisation_id) > 36 else db_session().get(Organization, organisation_id)
    )
    if organization is None:
        abort(404)
    return organization


def _invalid(error: InvalidDirectoryInput) -> dict[str, str]:
    db_session().rollback()
    return forms.error_texts(error.errors, gettext)


def _saved(message: str, target: str) -> Response:
    db_session().commit()
    flash(gettext(message), "success")
    return redirect(target, code=303)


@secretariat.get("/")
def dashboard() -> str:
    """Every organisation, published or not, with filters."""
    viewer = viewer_for(g.user)
    country = request.args.get("country", "").upper()[:2] or None
    org_type = request.args.get("type", "")[:60] or None
    state = request.args.get("state", "")
    text = request.args.get("q", "").strip().lower()[:200]
    rows = queries.list_organizations(db_session(), viewer, country=country, org_type=org_type)
    if state in PUBLISHED_FILTERS:
        rows = [o for o in rows if o.is_published == (state == "published")]
    if text:
        rows = [o for o in rows if text in f"{o.name} {o.ref} {o.city or ''}".lower()]
    return render_template(
        "secretariat/dashboard.html",
        organisations=rows,
        filters={"country": country or "", "type": org_type or "", "state": state, "q": text},
    )


def _organisation_form(organization: Organization | None) -> str | Response:
    values = forms.organisation_form(organization)
    errors: dict[str, str] = {}
    if request.method == "POST":
        posted = forms.organisation_values(request.form)
        try:
            if organization is None:
                created = services.create_organization(db_session(), _actor(), posted)
                target = url_for("secretariat.edit", organisation_id=created.id)
                return _saved(
                    "Organisation created. It stays unpublished until you publish it.", target
                )
            changes = services.update_organization(db_session(), _actor(), organization.id, posted)
            db_session().commit()
            if changes.narrowed:
                flash(
                    ngettext(
                        "%(count)s service, contact point, phone or address was narrowed to "
                        "the organisation's new visibility.",
                        "%(count)s services, contact points, phones or addresses were narrowed "
                        "to the organisation's new visibility.",
                        changes.narrowed,
                    ),
                    "warning",
                )
            flash(gettext("Changes saved.") if changes.fields else gettext("Nothing changed."))
            return redirect(url_for("secretariat.edit", organisation_id=organization.id), 303)
        except InvalidDirectoryInput as error:
            errors, values = _invalid(error), forms.posted_form(request.form)
    template = "secretariat/organisation_form.html"
    status = 422 if errors else 200
    return render_template(template, org=organization, values=values, errors=errors), status  # type: ignore[return-value]


@secretariat.route("/organisations/new", methods=["GET", "POST"])
def create() -> str | Response:
    """Add an organisation."""
    return _organisation_form(None)


@secretariat.route("/organisations/<organisation_id>/edit", methods=["GET", "POST"])
def edit(organisation_id: str) -> str | Response:
    """Change an organisation's fields and translations."""
    return _organisation_form(_organisation(organisation_id))


@secretariat.post("/organisations/<organisation_id>/publish")
def publish(organisation_id: str) -> Response:
    """Show the organisation to members (and the public, if its visibility says so)."""
    organization = _organisation(organisation_id)
    services.set_published(db_session(), _actor(), organization.id, True)
    return _saved("Published.", url_for("secretariat.edit", organisation_id=organization.id))


@secretariat.get("/organisations/<organisation_id>/unpublish")
def confirm_unpublish(organisation_id: str) -> str | Response:
    """What unpublishing does, and the button that does it (one click never unpublishes)."""
    organization = _organisation(organisation_id)
    if not organization.is_published:
        return redirect(url_for("secretariat.edit", organisation_id=organization.id))
    return render_template("secretariat/unpublish.html", org=organization)


@secretariat.post("/organisations/<organisation_id>/unpublish")
def unpublish(organisation_id: str) -> Response:
    """Hide the organisation from everyone but the secretariat (sent from the confirm page)."""
    organization = _organisation(organisation_id)
    services.set_published(db_session(), _actor(), organization.id, False)
    return _saved("Unpublished.", url_for("secretariat.edit", organisation_id=organization.id))


def _child(model: type[Service] | type[Contact], organization: Organization, child_id: str) -> Any:
    child: Any = None if len(child_id) > 36 else db_session().get(model, child_id)
    if child is None or child.organization_id != organization.id:
        abort(404)
    return child


def _child_form(
    organization: Organization,
    child: Any,
    *,
    template: str,
    to_values: Callable[[Any], dict[str, Any]],
    save: Callable[[dict[str, Any]], Any],
    parse: Callable[[Any], dict[str, Any]],
    saved: str,
    target: str,
) -> str | Response:
    values, errors = to_values(child), {}
    if request.method == "POST":
        try:
            save(parse(request.form))
            return _saved(saved, target)
        except InvalidDirectoryInput as error:
            errors, values = _invalid(error), forms.posted_form(request.form)
    status = 422 if errors else 200
    return render_template(  # type: ignore[return-value]
        template, org=organization, child=child, values=values, errors=errors
    ), status


@secretariat.route("/organisations/<organisation_id>/services", methods=["GET", "POST"])
def services_list(organisation_id: str) -> str | Response:
    """The organisation's services, and a form to add one."""
    organization = _organisation(organisation_id)
    target = url_for("secretariat.services_list", organisation_id=organization.id)
    return _child_form(
        organization,
        None,
        template="secretariat/services.html",
        to_values=forms.service_form,
        parse=forms.service_values,
        save=lambda v: children.add_service(db_session(), _actor(), organization.id, v),
        saved="Service added.",
        target=target,
    )


@secretariat.route(
    "/organisations/<organisation_id>/services/<service_id>", methods=["GET", "POST"]
)
def service_edit(organisation_id: str, service_id: str) -> str | Response:
    """Change one service."""
    organization = _organisation(organisation_id)
    service = _child(Service, organization, service_id)
    return _child_form(
        organization,
        service,
        template="secretariat/service_form.html",
        to_values=forms.service_form,
        parse=forms.service_values,
        save=lambda v: children.update_service(db_session(), _actor(), service.id, v),
        saved="Service saved.",
        target=url_for("secretariat.services_list", organisation_id=organization.id),
    )


@secretariat.post("/organisations/<organisation_id>/services/<service_id>/remove")
def service_remove(organisation_id: str, service_id: str) -> Response:
    """Remove one service."""
    organization = _organisation(organisation_id)
    service = _child(Service, organization, service_id)
    children.remove_service(db_session(), _actor(), service.id)
    target = url_for("secretariat.services_list", organisation_id=organization.id)
    return _saved("Service removed.", target)


@secretariat.route("/organisations/<organisation_id>/contacts", methods=["GET", "POST"])
def contacts_list(organisation_id: str) -> str | Response:
    """The organisation's contact points, and a form to add one."""
    organization = _organisation(organisation_id)
    target = url_for("secretariat.contacts_list", organisation_id=organization.id)
    return _child_form(
        organization,
        None,
        template="secretariat/contacts.html",
        to_values=forms.contact_point_form,
        parse=forms.contact_point_values,
        save=lambda v: children.add_contact_point(db_session(), _actor(), organization.id, v),
        saved="Contact point added.",
        target=target,
    )


@secretariat.route(
    "/organisations/<organisation_id>/contacts/<contact_id>", methods=["GET", "POST"]
)
def contact_edit(organisation_id: str, contact_id: str) -> str | Response:
    """Change one contact point."""
    organization = _organisation(organisation_id)
    contact = _child(Contact, organization, contact_id)
    return _child_form(
        organization,
        contact,
        template="secretariat/contact_form.html",
        to_values=forms.contact_point_form,
        parse=forms.contact_point_values,
        save=lambda v: children.update_contact_point(db_session(), _actor(), contact.id, v),
        saved="Contact point saved.",
        target=url_for("secretariat.contacts_list", organisation_id=organization.id),
    )


@secretariat.post("/organisations/<organisation_id>/contacts/<contact_id>/remove")
def contact_remove(organisation_id: str, contact_id: str) -> Response:
    """Remove one contact point."""
    organization = _organisation(organisation_id)
    contact = _child(Contact, organization, contact_id)
    children.remove_contact_point(db_session(), _actor(), contact.id)
    target = url_for("secretariat.contacts_list", organisation_id=organization.id)
    return _saved("Contact point removed.", target)


@secretariat.route("/organisations/<organisation_id>/address", methods=["GET", "POST"])
def address(organisation_id: str) -> str | Response:
    """The organisation's street address and who may see it."""
    organization = _organisation(organisation_id)
    location = organization.locations[0] if organization.locations else None
    current = location.addresses[0] if location and location.addresses else None
    target = url_for("secretariat.address", organisation_id=organization.id)
    return _child_form(
        organization,
        current,
        template="secretariat/address.html",
        to_values=forms.address_form,
        parse=forms.address_values,
        save=lambda v: _save_address(organization.id, v),
        saved="Address saved.",
        target=target,
    )


def _save_address(organisation_id: str, values: dict[str, Any]) -> list[str]:
    changed = services.update_address(db_session(), _actor(), organisation_id, values)
    if "point" in changed:
        flash(
            gettext(
                "The map point was dropped: an address that is not stored keeps only its town."
            ),
            "warning",
        )
    return changed


@secretariat.get("/organisations/<organisation_id>/history")
def history(organisation_id: str) -> str:
    """Who changed what and when, confidential values redacted."""
    organization = _organisation(organisation_id)
    entries = queries.organisation_history(db_session(), organization.id)
    return render_template("secretariat/history.html", org=organization, entries=entries)


@secretariat.errorhandler(OrganisationNotFound)
def _not_found(_error: OrganisationNotFound) -> tuple[str, int]:
    """A record removed meanwhile (by another editor) is simply not found."""
    db_session().rollback()
    return render_template("error.html", code=404, title="Not found", detail=None), 404
