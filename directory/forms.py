"""The secretariat's forms: posted fields → service values, and records → form values.

Field names match the error keys of ``directory.validation`` (``description_fr`` …), so an error
lands next to its input.
"""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

from directory.errors import FieldError
from directory.models import Address, Contact, Organization, Service
from directory.services import BRUSSELS
from directory.validation import TEXT_LANGUAGES

ORGANISATION_TEXT = (
    "name",
    "alternate_name",
    "country",
    "region",
    "city",
    "org_type",
    "website",
    "email",
    "visibility",
    "verification_status",
    "last_verified_on",
    "next_review_on",
    "review_interval_days",
    "phone",
    "emergency_phone",
    "phone_visibility",
)
ORGANISATION_FLAGS = ("is_24_7", "accepts_cross_border_referrals")
CONTACT_FLAGS = ("is_backup",)
ORGANISATION_LISTS = ("exploitation_forms", "target_groups", "languages")
VISIBILITY_LABELS = {
    "public": "Anyone (public)",
    "network": "Network members",
    "secretariat": "Secretariat only",
    "not_stored": "Not stored: the street is dropped",
}


def _translations(form: MultiDict[str, str], name: str) -> dict[str, str]:
    return {lang: form.get(f"{name}_{lang}", "") for lang in TEXT_LANGUAGES}


def organisation_values(form: MultiDict[str, str]) -> dict[str, Any]:
    """The organisation form as service values."""
    values: dict[str, Any] = {name: form.get(name, "") for name in ORGANISATION_TEXT}
    values.update({name: form.get(name) == "on" for name in ORGANISATION_FLAGS})
    values.update({name: form.getlist(name) for name in ORGANISATION_LISTS})
    values["name_i18n"] = _translations(form, "name_i18n")
    values["description"] = _translations(form, "description")
    return values


def service_values(form: MultiDict[str, str]) -> dict[str, Any]:
    """The service form as service values."""
    return {
        "service_type": form.get("service_type", ""),
        "status": form.get("status", "active"),
        "visibility": form.get("visibility", ""),
        "name_i18n": _translations(form, "name_i18n"),
        "description": _translations(form, "description"),
    }


def contact_point_values(form: MultiDict[str, str]) -> dict[str, Any]:
    """The contact-point form as service values."""
    return {
        "name": form.get("name", ""),
        "email": form.get("email", ""),
        "phone": form.get("phone", ""),
        "visibility": form.get("visibility", ""),
        "languages": form.getlist("languages"),
        "title": _translations(form, "title"),
        "is_backup": form.get("is_backup") == "on",
    }


def address_values(form: MultiDict[str, str]) -> dict[str, Any]:
    """The address form as service values."""
    return {name: form.get(name, "") for name in ("address_1", "postal_code", "city", "visibility")}


def _flatten(prefix: str, texts: dict[str, str] | None) -> dict[str, str]:
    return {f"{prefix}_{lang}": (texts or {}).get(lang, "") for lang in TEXT_LANGUAGES}


def organisation_form(organization: Organization | None) -> dict[str, Any]:
    """Form values showing an organisation (or the defaults of a new one)."""
    if organization is None:
        return {"visibility": "network", "phone_visibility": "network", "review_interval_days": ""}
    phones = {p.is_emergency: p for p in organization.phones if p.contact_id is None}
    verified = organization.last_verified_at
    values: dict[str, Any] = {
        name: getattr(organization, name, None) or ""
        for name in ORGANISATION_TEXT
        if hasattr(organization, name)
    }
    values.update(
        {
            "is_24_7": organization.is_24_7,
            "accepts_cross_border_referrals": organization.accepts_cross_border_referrals,
            "exploitation_forms": organization.codes("exploitation_form"),
            "target_groups": organization.codes("target_group"),
            "languages": organization.language_codes,
            "last_verified_on": verified.astimezone(BRUSSELS).date().isoformat()
            if verified
            else "",
            "next_review_on": organization.next_review_on.isoformat()
            if organization.next_review_on
            else "",
            "phone": phones[False].number if False in phones else "",
            "emergency_phone": phones[True].number if True in phones else "",
            "phone_visibility": next(iter(phones.values())).visibility if phones else "network",
        }
    )
    values.update(_flatten("name_i18n", organization.name_i18n))
    values.update(_flatten("description", organization.description))
    return values


def posted_form(form: MultiDict[str, str]) -> dict[str, Any]:
    """What was posted, to show it again next to its errors."""
    values: dict[str, Any] = {key: form.get(key) for key in form}
    values.update({name: form.getlist(name) for name in (*ORGANISATION_LISTS,)})
    values.update({name: form.get(name) == "on" for name in (*ORGANISATION_FLAGS, *CONTACT_FLAGS)})
    return values


def service_form(service: Service | None) -> dict[str, Any]:
    """Form values showing a service."""
    if service is None:
        return {"status": "active", "visibility": "network"}
    values: dict[str, Any] = {
        "service_type": service.service_type,
        "status": service.status,
        "visibility": service.visibility,
    }
    values.update(_flatten("name_i18n", service.name_i18n))
    values.update(_flatten("description", service.description))
    return values


def contact_point_form(contact: Contact | None) -> dict[str, Any]:
    """Form values showing a contact point."""
    if contact is None:
        return {"visibility": "network", "languages": [], "is_backup": False}
    values: dict[str, Any] = {
        "name": contact.name or "",
        "email": contact.email or "",
        "phone": contact.phones[0].number if contact.phones else "",
        "visibility": contact.visibility,
        "languages": list(contact.languages or []),
        "is_backup": bool(contact.is_backup),
    }
    values.update(_flatten("title", contact.title))
    return values


def address_form(address: Address | None) -> dict[str, Any]:
    """Form values showing an address."""
    if address is None:
        return {"visibility": "secretariat"}
    return {
        "address_1": address.address_1 or "",
        "postal_code": address.postal_code or "",
        "city": address.city or "",
        "visibility": address.visibility,
    }


def error_texts(errors: dict[str, FieldError], gettext: Any) -> dict[str, str]:
    """Field errors in the reader's language (visibility codes shown as their labels)."""
    texts: dict[str, str] = {}
    for name, error in errors.items():
        values = {
            key: gettext(VISIBILITY_LABELS[value]) if value in VISIBILITY_LABELS else value
            for key, value in (error.values or {}).items()
        }
        texts[name] = str(gettext(error.message, **values))
    return texts


VERIFICATION_LABELS = {
    "unverified": "Not yet verified",
    "verified": "Verified",
    "needs_review": "Review due",
}
AUDIT_ACTIONS = {
    "create": "Created",
    "update": "Changed",
    "delete": "Removed",
    "propose": "Proposed",
    "approve": "Approved",
    "reject": "Rejected",
    "withdraw": "Withdrawn",
    "confirmed": "Confirmed as current",
    "corrected": "Confirmed with corrections",
}
AUDIT_ENTITIES = {
    "organization": "organisation",
    "service": "service",
    "contact": "contact point",
    "address": "address",
    "phone": "phone",
    "location": "location",
    "change_request": "change request",
    "verification": "verification",
}
