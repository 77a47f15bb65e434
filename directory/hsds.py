"""Directory records as Open Referral HSDS 3.1 objects, showing only what a viewer may see.

Texts are given in one language (HSDS has no translations): the requested one, else a fallback.
Records HSDS needs but Liaison does not store as rows (the organisation type as an attribute,
languages per service, a 24/7 schedule) get stable UUIDv5 ids derived from their parent's id.
An address goes out only with its street: HSDS requires ``address_1``; unknown postal codes and
provinces are empty strings. Values absent in Liaison are left out rather than sent as null.
"""

from __future__ import annotations

import uuid
from typing import Any

from directory.models import Contact, Location, Organization, Phone, Service, i18n_text
from directory.places import Gazetteer
from directory.points import point_for
from directory.taxonomy import NAMESPACE, TaxonomyData, Term, load_taxonomy, taxonomy_id, term_id
from directory.visibility import Viewer, can_see, can_see_child

HSDS_VERSION = "3.1"
SERVICE_STATUSES = ("active", "inactive", "defunct", "temporarily closed")
EVERY_DAY = "MO,TU,WE,TH,FR,SA,SU"


def derived_id(*parts: str) -> str:
    """A stable id for a record built on the fly from its parent."""
    return str(uuid.uuid5(NAMESPACE, ":".join(("hsds", *parts))))


def _clean(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if value is not None}


def _term(term: Term, locale: str) -> dict[str, Any]:
    label = term.label(locale)
    return {
        "id": term.id,
        "code": term.code,
        "name": label,
        "description": label,
        "taxonomy": term.vocabulary,
        "taxonomy_id": taxonomy_id(term.vocabulary),
        "language": locale if term.labels.get(locale) else "en",
    }


def _attribute(
    attribute_id: str, link: tuple[str, str], vocabulary: str, code: str, locale: str
) -> dict[str, Any]:
    link_id, entity = link
    term = load_taxonomy().get(vocabulary, code) or Term(vocabulary, code, {})
    return {
        "id": attribute_id,
        "link_id": link_id,
        "link_type": vocabulary,
        "link_entity": entity,
        "taxonomy_term_id": term_id(vocabulary, code),
        "value": code,
        "label": term.label(locale),
        "taxonomy_term": _term(term, locale),
    }


def organization_summary(organization: Organization, locale: str = "en") -> dict[str, Any]:
    """The one-to-one fields of an organisation (an ``organization_list`` item)."""
    return _clean(
        {
            "id": organization.id,
            "name": organization.name,
            "alternate_name": organization.alternate_name,
            "description": i18n_text(organization.description, locale)[0],
            "email": organization.email,
            "website": organization.website,
        }
    )


def _phone(phone: Phone, locale: str) -> dict[str, Any]:
    return _clean(
        {
            "id": phone.id,
            "organization_id": phone.organization_id,
            "contact_id": phone.contact_id,
            "number": phone.number,
            "type": phone.type or "voice",
            "description": "24/7 emergency line" if phone.is_emergency else None,
        }
    )


def organization_phones(viewer: Viewer, organization: Organization, locale: str) -> list[Any]:
    """The organisation's own phones the viewer may see."""
    return [
        _phone(phone, locale)
        for phone in organization.phones
        if phone.contact_id is None and can_see_child(viewer, organization, phone.visibility)
    ]


def organization_contacts(viewer: Viewer, organization: Organization, locale: str) -> list[Any]:
    """The contact points the viewer may see, with their phones."""
    return [
        _contact(viewer, organization, contact, locale)
        for contact in sorted(organization.contacts, key=lambda c: c.position)
        if can_see_child(viewer, organization, contact.visibility)
    ]


def _contact(
    viewer: Viewer, organization: Organization, contact: Contact, locale: str
) -> dict[str, Any]:
    title = i18n_text(contact.title, locale)[0]
    return _clean(
        {
            "id": contact.id,
            "organization_id": organization.id,
            "name": contact.name,
            "title": title or None,
            "email": contact.email,
            "phones": [
                _phone(phone, locale)
                for phone in contact.phones
                if can_see(viewer, phone.visibility)
            ],
        }
    )


def hsds_location(
    viewer: Viewer,
    organization: Organization,
    location: Location,
    locale: str,
    places: Gazetteer | None,
) -> dict[str, Any] | None:
    addresses = [
        {
            "id": address.id,
            "location_id": location.id,
            "address_1": address.address_1,
            "city": address.city,
            "state_province": address.region or "",
            "postal_code": address.postal_code or "",
            "country": address.country,
            "address_type": address.address_type
            if address.address_type in ("physical", "postal", "virtual")
            else "physical",
        }
        for address in location.addresses
        if can_see(viewer, address.visibility) and address.address_1 and address.city
    ]
    point = point_for(viewer, organization, places, location)
    if point is None and not addresses:
        return None
    return _clean(
        {
            "id": location.id,
            "location_type": "physical",
            "organization_id": organization.id,
            "name": location.name,
            "latitude": point.lat if point else None,
            "longitude": point.lon if point else None,
            "addresses": addresses,
        }
    )


def _languages(owner_id: str, codes: list[str], locale: str, **link: str) -> list[dict[str, Any]]:
    taxonomy = load_taxonomy()
    return [
        {
            "id": derived_id("language", owner_id, code),
            **link,
            "code": code,
            "name": taxonomy.label("language", code, locale),
        }
        for code in codes
    ]


def _schedules(service: Service, organization: Organization) -> list[dict[str, Any]]:
    schedules = [
        _clean(
            {
                "id": schedule.id,
                "service_id": service.id,
                "freq": schedule.freq if schedule.freq in ("WEEKLY", "MONTHLY") else None,
                "opens_at": schedule.opens_at,
                "closes_at": schedule.closes_at,
                "description": i18n_text(schedule.description, "en")[0] or None,
            }
        )
        for schedule in service.schedules
    ]
    if not schedules and organization.is_24_7:
        schedules.append(
            {
                "id": derived_id("schedule-24-7", service.id),
                "service_id": service.id,
                "freq": "WEEKLY",
                "byday": EVERY_DAY,
                "opens_at": "00:00",
                "closes_at": "23:59",
                "description": "Available 24 hours a day, 7 days a week",
            }
        )
    return schedules


def service_summary(service: Service, locale: str = "en") -> dict[str, Any]:
    """The one-to-one fields of a service (a ``service_list`` item)."""
    organization = service.organization
    name = i18n_text(service.name_i18n, locale)[0] or service.name
    return _clean(
        {
            "id": service.id,
            "organization_id": organization.id,
            "name": name,
            "description": i18n_text(service.description, locale)[0] or None,
            "url": organization.website,
            "email": organization.email,
            "status": service.status if service.status in SERVICE_STATUSES else "inactive",
            "last_modified": organization.updated_at.isoformat(),
            "organization": organization_summary(organization, locale),
        }
    )


def hsds_service(
    viewer: Viewer, service: Service, locale: str = "en", *, nested: bool = False
) -> dict[str, Any]:
    """A service with its languages, taxonomy attribute, schedules and areas.

    ``nested`` (the ``/services/{id}`` form) adds its organisation, phones and contact points.
    """
    organization = service.organization
    record = service_summary(service, locale)
    if not nested:
        del record["organization"]
    record["languages"] = _languages(
        service.id, organization.language_codes, locale, service_id=service.id
    )
    record["attributes"] = [
        _attribute(
            derived_id("service-type", service.id),
            (service.id, "service"),
            "service_type",
            service.service_type,
            locale,
        )
    ]
    record["schedules"] = _schedules(service, organization)
    record["service_areas"] = [
        _clean(
            {
                "id": area.id,
                "service_id": service.id,
                "name": area.name,
                "extent_type": area.extent_type,
            }
        )
        for area in service.service_areas
    ]
    if nested:
        record["phones"] = organization_phones(viewer, organization, locale)
        record["contacts"] = organization_contacts(viewer, organization, locale)
    return record


def hsds_organization(
    viewer: Viewer,
    organization: Organization,
    locale: str = "en",
    places: Gazetteer | None = None,
    *,
    full_service: bool = False,
) -> dict[str, Any]:
    """A fully nested organisation with its services, as the viewer may see it.

    ``full_service`` nests each service fully too (its phones and contact points).

    A location's point is the one ``point_for`` gives the viewer (a confidential address's
    town centre from ``places``; without ``places``, no point at all).
    """
    record = organization_summary(organization, locale)
    attributes = [
        _attribute(a.id, (organization.id, "organization"), a.vocabulary, a.term_code, locale)
        for a in sorted(organization.attributes, key=lambda a: (a.vocabulary, a.position))
        if a.vocabulary != "service_type"
    ]
    attributes.insert(
        0,
        _attribute(
            derived_id("org-type", organization.id),
            (organization.id, "organization"),
            "org_type",
            organization.org_type,
            locale,
        ),
    )
    locations = [
        hsds_location(viewer, organization, location, locale, places)
        for location in organization.locations
        if can_see_child(viewer, organization, location.visibility)
    ]
    record.update(
        {
            "organization_identifiers": [
                {
                    "id": derived_id("ref", organization.id),
                    "organization_id": organization.id,
                    "identifier_scheme": "liaison",
                    "identifier_type": "ref",
                    "identifier": organization.ref,
                }
            ],
            "contacts": organization_contacts(viewer, organization, locale),
            "phones": organization_phones(viewer, organization, locale),
            "locations": [location for location in locations if location is not None],
            "attributes": attributes,
            "services": [
                _nested_service(viewer, service, locale, full_service)
                for service in organization.services
                if can_see_child(viewer, organization, service.visibility)
            ],
        }
    )
    return record


def _nested_service(viewer: Viewer, service: Service, locale: str, full: bool) -> dict[str, Any]:
    """A service inside its organisation: without repeating the organisation."""
    record = hsds_service(viewer, service, locale, nested=full)
    record.pop("organization", None)
    return record


def hsds_taxonomy(vocabulary: str, data: TaxonomyData) -> dict[str, Any]:
    """One vocabulary of the network's taxonomy (an HSDS ``taxonomy``)."""
    return {
        "id": taxonomy_id(vocabulary),
        "name": vocabulary,
        "description": f"Liaison {vocabulary.replace('_', ' ')} vocabulary",
        "version": str(data.version),
    }


def hsds_taxonomy_term(term: Term, locale: str = "en") -> dict[str, Any]:
    """One term of the taxonomy (an HSDS ``taxonomy_term``)."""
    return _term(term, locale)
