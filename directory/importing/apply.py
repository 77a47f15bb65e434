"""Writing checked import records: create or update organisations, only where something differs.

Each record is compared with the organisation's current import-format record first, so importing
the same file twice writes nothing the second time (no audit entry, no ``updated_at`` change, no
search outbox entry). Ids never change: children are matched by service type, code or position.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core import audit, outbox
from core.db import new_id, utcnow
from directory.importing.record import (
    contact_phone,
    contact_role,
    main_address,
    main_location,
    main_phone,
    organisation_record,
)
from directory.models import (
    Address,
    Attribute,
    Contact,
    Language,
    Location,
    Organization,
    Phone,
    Service,
)
from directory.points import place_location
from directory.taxonomy import TaxonomyData, term_id

ACTION = "import"
# Review intervals (days): places where a victim stays or calls day and night go stale fastest.
SHORT_REVIEW_DAYS = 180
LONG_REVIEW_DAYS = 365
SHORT_REVIEW_ORG_TYPES = frozenset(
    {"specialised_victim_centre", "specialised_minor_shelter", "protected_reception"}
)
SHORT_REVIEW_SERVICE_TYPES = frozenset({"shelter", "helpline"})
CONFIDENTIAL_ADDRESS = ("secretariat", "not_stored")
SCALAR_FIELDS = (
    "name",
    "alternate_name",
    "description",
    "country",
    "region",
    "city",
    "org_type",
    "is_24_7",
    "accepts_cross_border_referrals",
    "website",
    "email",
)


def review_interval_days(org_type: str, service_types: list[str]) -> int:
    """180 days for shelters and helplines, 365 for authorities and everyone else."""
    if org_type in SHORT_REVIEW_ORG_TYPES or SHORT_REVIEW_SERVICE_TYPES & set(service_types):
        return SHORT_REVIEW_DAYS
    return LONG_REVIEW_DAYS


def create_organisation(
    session: Session, record: dict[str, Any], taxonomy: TaxonomyData, today: date
) -> Organization:
    """A new organisation from a record, with an audit entry per field it sets."""
    organization = Organization(
        id=new_id(),
        ref=record["ref"],
        visibility=record["visibility"],
        is_published=True,
        name_i18n={},
    )
    session.add(organization)
    empty = dict.fromkeys(record)
    empty["visibility"] = record["visibility"]
    _apply(organization, empty, record, taxonomy)
    interval = review_interval_days(record["org_type"], record["service_types"])
    organization.review_interval_days = interval
    organization.next_review_on = today + timedelta(days=interval)
    session.flush()
    _audit_changes(session, organization, {**empty, "visibility": None}, record)
    outbox.enqueue(session, organization.id, reason=ACTION)
    return organization


def update_organisation(
    session: Session,
    organization: Organization,
    record: dict[str, Any],
    taxonomy: TaxonomyData,
    today: date,
) -> bool:
    """Bring an organisation in line with a record; False (and nothing written) when equal."""
    current = organisation_record(organization)
    if current == record:
        return False
    _apply(organization, current, record, taxonomy)
    interval = review_interval_days(record["org_type"], record["service_types"])
    if interval != organization.review_interval_days:
        _audit(
            session,
            organization,
            "review_interval_days",
            organization.review_interval_days,
            interval,
            confidential=False,
        )
        organization.review_interval_days = interval
        soonest = today + timedelta(days=interval)
        if organization.next_review_on is None or organization.next_review_on > soonest:
            organization.next_review_on = soonest
    organization.updated_at = utcnow()
    session.flush()
    _audit_changes(session, organization, current, record)
    outbox.enqueue(session, organization.id, reason=ACTION)
    return True


def _apply(
    organization: Organization,
    current: dict[str, Any],
    record: dict[str, Any],
    taxonomy: TaxonomyData,
) -> None:
    def changed(*fields: str) -> bool:
        return any(current[field] != record[field] for field in fields)

    if changed("visibility"):
        _apply_visibility(organization, record["visibility"])
    for field in SCALAR_FIELDS:
        if changed(field):
            setattr(organization, field, record[field])
    if changed("country", "region", "lat", "lon", "address"):
        _apply_place(organization, record)
    if changed("languages"):
        _apply_languages(organization, record["languages"])
    vocabularies = {
        "exploitation_forms": "exploitation_form",
        "target_groups": "target_group",
        "service_types": "service_type",
    }
    for field, vocabulary in vocabularies.items():
        if changed(field):
            _apply_codes(organization, vocabulary, record[field])
    if changed("service_types"):
        _apply_services(organization, record["service_types"], taxonomy)
    for field, emergency in (("phone", False), ("emergency_phone", True)):
        if changed(field):
            _apply_phone(organization, record[field], emergency=emergency)
    if changed("contact_points"):
        _apply_contact_points(organization, record["contact_points"])


def _apply_visibility(organization: Organization, visibility: str) -> None:
    """Children that followed the organisation's visibility follow it to the new one."""
    previous = organization.visibility
    followers: list[Service | Location | Phone] = [
        *organization.services,
        *organization.locations,
        *(phone for phone in organization.phones if phone.contact_id is None),
    ]
    for child in followers:
        if child.visibility == previous:
            child.visibility = visibility
    organization.visibility = visibility


def _apply_place(organization: Organization, record: dict[str, Any]) -> None:
    location = main_location(organization)
    wanted = record["address"]
    if record["lat"] is None and wanted is None:
        if location is not None:
            organization.locations.remove(location)
        return
    if location is None:
        location = Location(id=new_id(), name=record["city"], visibility=organization.visibility)
        organization.locations.append(location)
    address = main_address(organization)
    if wanted is None:
        if address is not None:
            location.addresses.remove(address)
    else:
        if address is None:
            address = Address(id=new_id(), address_type="physical")
            location.addresses.append(address)
        address.address_1 = wanted["street"]
        address.postal_code = wanted["postal_code"]
        address.city = wanted["city"]
        address.visibility = wanted["visibility"]
        address.country = record["country"]
        address.region = record["region"]
    # After the address: a ``not_stored`` address keeps no point (``import_directory`` has
    # already dropped it from the record and said so in its report).
    place_location(location, record["lat"], record["lon"])


def _apply_languages(organization: Organization, codes: list[str]) -> None:
    existing = {language.code: language for language in organization.languages}
    rows = []
    for position, code in enumerate(codes):
        row = existing.pop(code, None) or Language(id=new_id(), code=code)
        row.position = position
        rows.append(row)
    organization.languages = rows


def _apply_codes(organization: Organization, vocabulary: str, codes: list[str]) -> None:
    others = [a for a in organization.attributes if a.vocabulary != vocabulary]
    existing = {a.term_code: a for a in organization.attributes if a.vocabulary == vocabulary}
    rows = []
    for position, code in enumerate(codes):
        row = existing.pop(code, None) or Attribute(
            id=new_id(),
            vocabulary=vocabulary,
            term_code=code,
            taxonomy_term_id=term_id(vocabulary, code),
        )
        row.position = position
        rows.append(row)
    organization.attributes = others + rows


def _apply_services(
    organization: Organization, service_types: list[str], taxonomy: TaxonomyData
) -> None:
    existing = {service.service_type: service for service in organization.services}
    rows = []
    for position, code in enumerate(service_types):
        service = existing.pop(code, None)
        if service is None:
            term = taxonomy.get("service_type", code)
            labels = dict(term.labels) if term else {}
            service = Service(
                id=new_id(),
                service_type=code,
                name=labels.get("en") or code,
                name_i18n=labels,
                description={},
                status="active",
                visibility=organization.visibility,
            )
        service.position = position
        rows.append(service)
    organization.services = rows


def _apply_phone(organization: Organization, number: str | None, *, emergency: bool) -> None:
    phone = main_phone(organization, emergency=emergency)
    if number is None:
        if phone is not None:
            organization.phones.remove(phone)
        return
    if phone is None:
        organization.phones.append(
            Phone(
                id=new_id(),
                number=number,
                type="voice",
                is_emergency=emergency,
                visibility=organization.visibility,
            )
        )
    else:
        phone.number = number


def _apply_contact_points(organization: Organization, points: list[dict[str, Any]]) -> None:
    existing = sorted(organization.contacts, key=lambda contact: contact.position)
    rows: list[Contact] = []
    for position, point in enumerate(points):
        contact = existing[position] if position < len(existing) else Contact(id=new_id())
        contact.position = position
        if contact_role(contact) != point["role"]:
            contact.title = {**(contact.title or {}), "en": point["role"]} if point["role"] else {}
        contact.email = point["email"]
        contact.languages = list(point["languages"])
        contact.visibility = point["visibility"]
        _apply_contact_phone(organization, contact, point["phone"])
        rows.append(contact)
    for contact in existing[len(points) :]:
        for phone in list(contact.phones):
            _remove_phone(organization, phone)
    organization.contacts = rows


def _apply_contact_phone(organization: Organization, contact: Contact, number: str | None) -> None:
    phone = contact_phone(contact)
    if number is None:
        if phone is not None:
            _remove_phone(organization, phone)
        return
    if phone is None:
        phone = Phone(id=new_id(), type="voice", is_emergency=False)
        organization.phones.append(phone)
        contact.phones.append(phone)
    phone.number = number
    phone.visibility = contact.visibility


def _remove_phone(organization: Organization, phone: Phone) -> None:
    if phone.contact is not None:
        phone.contact.phones.remove(phone)
    organization.phones.remove(phone)


def _is_confidential(field: str, old: Any, new: Any) -> bool:
    """Streets and anything only the secretariat may see are written to the audit redacted."""
    values = [value for value in (old, new) if isinstance(value, dict)]
    if field == "address":
        return any(v.get("street") or v.get("visibility") == "secretariat" for v in values)
    if field.startswith("contact_points"):
        return any(v.get("visibility") == "secretariat" for v in values)
    return False


def _audit(
    session: Session,
    organization: Organization,
    field: str,
    old: Any,
    new: Any,
    *,
    confidential: bool,
) -> None:
    audit.record(
        session,
        actor_id=None,
        action=ACTION,
        entity_type="organization",
        entity_id=organization.id,
        organization_id=organization.id,
        field=field,
        old=old,
        new=new,
        confidential=confidential,
    )


def _audit_changes(
    session: Session, organization: Organization, old: dict[str, Any], new: dict[str, Any]
) -> None:
    secret = "secretariat" in (old["visibility"], new["visibility"])
    # A point is as private as the street address it places (``directory.points``).
    hidden_point = any(
        (record.get("address") or {}).get("visibility") in CONFIDENTIAL_ADDRESS
        for record in (old, new)
    )
    for field, value in new.items():
        before = old[field]
        if field == "contact_points":
            _audit_contact_points(session, organization, before or [], value, secret)
        elif before != value and not (before is None and value in ([], {})):
            confidential = secret or _is_confidential(field, before, value)
            confidential = confidential or (hidden_point and field in ("lat", "lon"))
            _audit(session, organization, field, before, value, confidential=confidential)


def _audit_contact_points(
    session: Session,
    organization: Organization,
    old: list[dict[str, Any]],
    new: list[dict[str, Any]],
    secret: bool,
) -> None:
    for index in range(max(len(old), len(new))):
        before = old[index] if index < len(old) else None
        after = new[index] if index < len(new) else None
        if before != after:
            field = f"contact_points[{index}]"
            confidential = secret or _is_confidential(field, before, after)
            _audit(session, organization, field, before, after, confidential=confidential)
