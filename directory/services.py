"""Writes of the directory by the secretariat: organisations, publication and addresses.

Every function takes the session and the acting person's id, validates first (raising
``InvalidDirectoryInput`` with every refused field, before anything changes), writes one audit
entry per changed field and queues the organisation for the search index. They flush; the caller
commits. Services and contact points are in ``directory.children``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, outbox
from directory.errors import OrganisationNotFound
from directory.importing.apply import review_interval_days
from directory.models import Address, Attribute, Language, Location, Organization, Phone
from directory.points import keeps_point, place_location, stored_point
from directory.taxonomy import term_id
from directory.validation import (
    ADDRESS_VISIBILITIES,
    VERIFICATION_STATUSES,
    VISIBILITIES,
    Checker,
    flag,
    visibility_rank,
)

BRUSSELS = ZoneInfo("Europe/Brussels")
CONFIDENTIAL_ADDRESS = ("secretariat", "not_stored")
CODE_LISTS = {"exploitation_forms": "exploitation_form", "target_groups": "target_group"}
PLAIN_FIELDS = (
    "name",
    "alternate_name",
    "country",
    "region",
    "city",
    "org_type",
    "website",
    "email",
    "is_24_7",
    "accepts_cross_border_referrals",
    "visibility",
    "verification_status",
    "next_review_on",
    "review_interval_days",
)


@dataclass
class Changes:
    """What a write changed: the fields, and children narrowed to the organisation's visibility."""

    fields: list[str] = field(default_factory=list)
    narrowed: int = 0


def _organisation_checks(check: Checker, country: str | None) -> dict[str, Callable[[Any], Any]]:
    """One check per organisation field, applied to the posted value."""
    return {
        "name": lambda v: check.text("name", v, max_length=300, required=True),
        "alternate_name": lambda v: check.text("alternate_name", v, max_length=300),
        "name_i18n": lambda v: check.translations("name_i18n", v, max_length=300),
        "description": lambda v: check.translations("description", v, max_length=5000),
        "region": lambda v: check.region("region", v, country),
        "city": lambda v: check.text("city", v, max_length=120),
        "org_type": lambda v: check.code("org_type", "org_type", v),
        "website": lambda v: check.url("website", v),
        "email": lambda v: check.email("email", v),
        "visibility": lambda v: check.choice("visibility", v, VISIBILITIES),
        "verification_status": lambda v: check.choice(
            "verification_status", v or "unverified", VERIFICATION_STATUSES
        ),
        "last_verified_on": lambda v: check.day("last_verified_on", v),
        "next_review_on": lambda v: check.day("next_review_on", v),
        "review_interval_days": lambda v: check.number(
            "review_interval_days", v or 365, low=1, high=3650
        ),
        "exploitation_forms": lambda v: check.codes("exploitation_forms", "exploitation_form", v),
        "target_groups": lambda v: check.codes("target_groups", "target_group", v),
        "languages": lambda v: check.codes("languages", "language", v),
        "phone": lambda v: check.phone("phone", v, country),
        "emergency_phone": lambda v: check.phone("emergency_phone", v, country),
        "phone_visibility": lambda v: check.choice(
            "phone_visibility", v or "network", VISIBILITIES
        ),
    }


def check_organization(values: Mapping[str, Any], current: Organization | None) -> dict[str, Any]:
    """The clean values of an organisation form (only the fields given when updating)."""
    check = Checker()
    clean: dict[str, Any] = {}
    if current is None or "country" in values:
        clean["country"] = check.country("country", values.get("country"))
    country = clean.get("country") or (current.country if current else None)
    for name, run in _organisation_checks(check, country).items():
        if current is None or name in values:
            clean[name] = run(values.get(name))
    for name in ("is_24_7", "accepts_cross_border_referrals"):
        if current is None or name in values:
            clean[name] = flag(values, name)
    if "description" in clean and not clean["description"] and "description_en" not in check.errors:
        check.fail("description_en", "Give the description in at least one language.")
    if "phone_visibility" in clean:
        parent = clean.get("visibility") or (current.visibility if current else "public")
        check.not_wider("phone_visibility", clean["phone_visibility"], parent)
    check.raise_if_any()
    return clean


def get_organization_for_edit(session: Session, organization_id: str) -> Organization:
    """An organisation by id for a write, or ``OrganisationNotFound``."""
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise OrganisationNotFound(organization_id)
    return organization


def create_organization(
    session: Session, actor_id: str | None, values: Mapping[str, Any]
) -> Organization:
    """Add an organisation (unpublished until the secretariat publishes it).

    Without a review interval it gets the default of its type (180 days for shelters and
    helplines, 365 for authorities and everyone else); without a next review day, today plus it.
    """
    if not values.get("review_interval_days"):
        default = review_interval_days(str(values.get("org_type") or ""), [])
        values = {**values, "review_interval_days": default}
    clean = check_organization(values, None)
    if clean.get("next_review_on") is None and clean.get("review_interval_days"):
        today = datetime.now(BRUSSELS).date()
        clean["next_review_on"] = today + timedelta(days=clean["review_interval_days"])
    organization = Organization(
        ref=_new_ref(session, clean["country"], clean["name"]),
        name=clean["name"],
        country=clean["country"],
        org_type=clean["org_type"],
        visibility=clean["visibility"],
        is_published=False,
        name_i18n={},
        description={},
    )
    session.add(organization)
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        action="create",
        entity_type="organization",
        entity_id=organization.id,
        organization_id=organization.id,
        new=organization.name,
    )
    _apply(session, actor_id, organization, clean, Changes())
    outbox.enqueue(session, organization.id)
    session.flush()
    return organization


def update_organization(
    session: Session, actor_id: str | None, organization_id: str, values: Mapping[str, Any]
) -> Changes:
    """Change the given fields of an organisation, one audit entry per changed field."""
    organization = get_organization_for_edit(session, organization_id)
    clean = check_organization(values, organization)
    changes = _apply(session, actor_id, organization, clean, Changes())
    if changes.fields or changes.narrowed:
        outbox.enqueue(session, organization.id)
    session.flush()
    return changes


def set_published(
    session: Session, actor_id: str | None, organization_id: str, published: bool
) -> bool:
    """Publish or unpublish an organisation; True when that changed anything."""
    organization = get_organization_for_edit(session, organization_id)
    if organization.is_published == published:
        return False
    _audit(session, actor_id, organization, "is_published", organization.is_published, published)
    organization.is_published = published
    outbox.enqueue(session, organization.id)
    session.flush()
    return True


def _audit(  # noqa: PLR0917 -- reads like the audit entry it writes
    session: Session,
    actor_id: str | None,
    organization: Organization,
    name: str,
    old: Any,
    new: Any,
    *,
    entity: Any = None,
    entity_type: str = "organization",
    confidential: bool = False,
) -> None:
    audit.record(
        session,
        actor_id=actor_id,
        action="update",
        entity_type=entity_type,
        entity_id=(entity or organization).id,
        organization_id=organization.id,
        field=name,
        old=old,
        new=new,
        confidential=confidential,
    )


def _apply(
    session: Session,
    actor_id: str | None,
    organization: Organization,
    clean: Mapping[str, Any],
    changes: Changes,
) -> Changes:
    for name in PLAIN_FIELDS:
        if name in clean and getattr(organization, name) != clean[name]:
            old = getattr(organization, name)
            _audit(session, actor_id, organization, name, _plain(old), _plain(clean[name]))
            setattr(organization, name, clean[name])
            changes.fields.append(name)
    for name in ("name_i18n", "description"):
        if name in clean:
            _apply_translations(session, actor_id, organization, name, clean[name], changes)
    if "last_verified_on" in clean:
        _apply_last_verified(session, actor_id, organization, clean["last_verified_on"], changes)
    for name, vocabulary in CODE_LISTS.items():
        # Checkboxes come back in taxonomy order: only a different set of codes is a change.
        if name in clean and set(organization.codes(vocabulary)) != set(clean[name]):
            _audit(
                session, actor_id, organization, name, organization.codes(vocabulary), clean[name]
            )
            set_codes(organization, vocabulary, clean[name])
            changes.fields.append(name)
    if "languages" in clean and set(organization.language_codes) != set(clean["languages"]):
        _audit(
            session, actor_id, organization, "languages", organization.language_codes,
            clean["languages"],
        )  # fmt: skip
        set_languages(organization, clean["languages"])
        changes.fields.append("languages")
    for name, emergency in (("phone", False), ("emergency_phone", True)):
        if name in clean:
            _apply_phone(session, actor_id, organization, name, emergency, clean, changes)
    if "visibility" in changes.fields:
        changes.narrowed += narrow_children(session, actor_id, organization)
    return changes


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _apply_translations(  # noqa: PLR0917 -- one call site, in field order
    session: Session,
    actor_id: str | None,
    organization: Organization,
    name: str,
    texts: Mapping[str, str],
    changes: Changes,
) -> None:
    current = dict(getattr(organization, name) or {})
    for lang in ("nl", "fr", "de", "en"):
        if current.get(lang) != texts.get(lang):
            _audit(
                session,
                actor_id,
                organization,
                f"{name}.{lang}",
                current.get(lang),
                texts.get(lang),
            )
            changes.fields.append(f"{name}.{lang}")
    setattr(organization, name, dict(texts))


def _apply_last_verified(
    session: Session,
    actor_id: str | None,
    organization: Organization,
    day: date | None,
    changes: Changes,
) -> None:
    old = organization.last_verified_at
    old_day = old.astimezone(BRUSSELS).date() if old else None
    if old_day == day:
        return
    _audit(session, actor_id, organization, "last_verified_on", _plain(old_day), _plain(day))
    organization.last_verified_at = (
        datetime.combine(day, time(12), tzinfo=BRUSSELS).astimezone(UTC) if day else None
    )
    changes.fields.append("last_verified_on")


def set_codes(organization: Organization, vocabulary: str, codes: list[str]) -> None:
    """Attach exactly these taxonomy codes of one vocabulary to the organisation, in order."""
    kept = [a for a in organization.attributes if a.vocabulary != vocabulary]
    existing = {a.term_code: a for a in organization.attributes if a.vocabulary == vocabulary}
    for position, code in enumerate(codes):
        attribute = existing.get(code) or Attribute(
            taxonomy_term_id=term_id(vocabulary, code), vocabulary=vocabulary, term_code=code
        )
        attribute.position = position
        kept.append(attribute)
    organization.attributes = kept


def set_languages(organization: Organization, codes: list[str]) -> None:
    """Make these the organisation's working languages, in order.

    Rows for codes that stay are kept (only their position changes) and new rows are made only
    for new codes: replacing the whole collection would insert a code again before the unit of
    work deletes its old row, which the (organisation, code) unique constraint refuses.
    """
    existing = {language.code: language for language in organization.languages}
    kept = []
    for position, code in enumerate(dict.fromkeys(codes)):
        language = existing.get(code) or Language(code=code)
        language.position = position
        kept.append(language)
    organization.languages = kept


def _own_phone(organization: Organization, emergency: bool) -> Phone | None:
    for phone in organization.phones:
        if phone.contact_id is None and phone.contact is None and phone.is_emergency == emergency:
            return phone
    return None


def _apply_phone(  # noqa: PLR0917 -- one call site, in field order
    session: Session,
    actor_id: str | None,
    organization: Organization,
    name: str,
    emergency: bool,
    clean: Mapping[str, Any],
    changes: Changes,
) -> None:
    phone = _own_phone(organization, emergency)
    number = clean[name]
    visibility = clean.get("phone_visibility") or (phone.visibility if phone else "network")
    if phone is not None and number is None:
        _audit(session, actor_id, organization, name, phone.number, None)
        organization.phones.remove(phone)
        changes.fields.append(name)
        return
    if number is None:
        return
    if phone is None:
        phone = Phone(number=number, is_emergency=emergency, visibility=visibility)
        organization.phones.append(phone)
        _audit(session, actor_id, organization, name, None, number)
        changes.fields.append(name)
    if phone.number != number:
        _audit(session, actor_id, organization, name, phone.number, number)
        phone.number = number
        changes.fields.append(name)
    if phone.visibility != visibility:
        _audit(session, actor_id, organization, f"{name}.visibility", phone.visibility, visibility)
        phone.visibility = visibility
        changes.fields.append(f"{name}.visibility")


def narrow_children(session: Session, actor_id: str | None, organization: Organization) -> int:
    """Clamp children wider than the organisation to its visibility; returns how many."""
    parent = organization.visibility
    children: list[tuple[str, Any]] = [
        *(("service", s) for s in organization.services),
        *(("contact", c) for c in organization.contacts),
        *(("phone", p) for p in organization.phones),
        *(("location", loc) for loc in organization.locations),
        *(("address", a) for loc in organization.locations for a in loc.addresses),
    ]
    count = 0
    for entity_type, child in children:
        if visibility_rank(child.visibility) < visibility_rank(parent):
            _audit(
                session, actor_id, organization, "visibility", child.visibility, parent,
                entity=child, entity_type=entity_type,
            )  # fmt: skip
            child.visibility = parent
            count += 1
    return count


def check_address(values: Mapping[str, Any], organization: Organization) -> dict[str, Any]:
    """The clean values of the address form."""
    check = Checker()
    visibility = check.choice(
        "visibility", values.get("visibility") or "secretariat", ADDRESS_VISIBILITIES
    )
    check.not_wider("visibility", visibility, organization.visibility)
    clean = {
        "visibility": visibility,
        "address_1": check.text("address_1", values.get("address_1"), max_length=300),
        "postal_code": check.text("postal_code", values.get("postal_code"), max_length=20),
        "city": check.text("city", values.get("city"), max_length=120),
    }
    if visibility == "not_stored":
        clean["address_1"] = None  # never stored, not even for the secretariat
    check.raise_if_any()
    return clean


def update_address(
    session: Session, actor_id: str | None, organization_id: str, values: Mapping[str, Any]
) -> list[str]:
    """Set the organisation's street address and who may see it; returns the changed fields.

    ``point`` among them means the location's point was dropped (the address is now not stored).
    """
    organization = get_organization_for_edit(session, organization_id)
    clean = check_address(values, organization)
    location = organization.locations[0] if organization.locations else None
    if location is None:
        location = Location(visibility=organization.visibility, name=organization.name)
        organization.locations.append(location)
    address = location.addresses[0] if location.addresses else None
    if address is None:
        address = Address(country=organization.country, visibility="secretariat")
        location.addresses.append(address)
        session.flush()
    confidential = (
        address.visibility in CONFIDENTIAL_ADDRESS or clean["visibility"] in CONFIDENTIAL_ADDRESS
    )
    changed: list[str] = []
    for name in ("visibility", "address_1", "postal_code", "city"):
        old = getattr(address, name)
        if old != clean[name]:
            secret = confidential and name in {"address_1", "postal_code"}
            _audit(
                session, actor_id, organization, name, old, clean[name],
                entity=address, entity_type="address", confidential=secret,
            )  # fmt: skip
            setattr(address, name, clean[name])
            changed.append(name)
    if stored_point(location) is not None and not keeps_point(location):
        # A ``not_stored`` address keeps only its town: the exact point goes too.
        _audit(
            session, actor_id, organization, "point", "stored", None,
            entity=location, entity_type="location", confidential=True,
        )  # fmt: skip
        place_location(location, None, None)
        changed.append("point")
    if changed:
        outbox.enqueue(session, organization.id)
    session.flush()
    return changed


def _new_ref(session: Session, country: str, name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:80] or "organisation"
    base = f"{country.lower()}-{slug}"
    ref, number = base, 1
    while session.scalar(select(Organization.id).where(Organization.ref == ref)) is not None:
        number += 1
        ref = f"{base}-{number}"
    return ref
