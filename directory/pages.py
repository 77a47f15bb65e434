"""An organisation as a reader sees it: only what their clearance allows, in their language.

Every child record passes ``directory.visibility`` here, so templates never decide who sees what.
A text missing in the reader's language comes with the language it is shown in, so the page can
mark the fallback and set the right ``lang`` attribute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from core.db import utcnow
from directory.models import Organization, i18n_text
from directory.roles import role_label
from directory.taxonomy import load_taxonomy
from directory.verification import brussels_day, is_stale
from directory.visibility import Viewer, can_see_child


@dataclass(frozen=True)
class Text:
    """A text and the language it is in; ``fallback`` when that is not the reader's language."""

    text: str
    lang: str
    fallback: bool


@dataclass(frozen=True)
class ServiceView:
    """A service as shown on the organisation page."""

    name: Text
    type_label: str
    description: Text
    active: bool


@dataclass(frozen=True)
class ContactPointView:
    """A contact point as shown on the organisation page."""

    title: Text
    name: str | None
    email: str | None
    phone: str | None
    languages: list[str]
    visibility: str


@dataclass(frozen=True)
class AddressView:
    """The address, or only the town when the street is withheld from this reader."""

    street: str | None
    postal_code: str | None
    city: str | None
    withheld: bool


@dataclass
class OrganisationPage:
    """Everything the organisation page and its printable version show."""

    id: str
    ref: str
    name: Text
    description: Text
    org_type: str
    country: str
    region: str | None
    city: str | None
    website: str | None
    email: str | None
    is_24_7: bool
    accepts_cross_border_referrals: bool
    visibility: str
    is_published: bool
    verification_status: str
    last_verified_at: datetime | None
    next_review_on: date | None
    address: AddressView | None
    exploitation_forms: list[str] = field(default_factory=list)
    target_groups: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    services: list[ServiceView] = field(default_factory=list)
    phones: list[tuple[str, bool]] = field(default_factory=list)
    contact_points: list[ContactPointView] = field(default_factory=list)
    stale: bool = False  # past its review day: shown to signed-in members, never to the public


def text_for(values: dict[str, str] | None, locale: str, default: str = "") -> Text:
    """A translated text in the reader's language, or the fallback marked as such."""
    text, lang = i18n_text(values, locale)
    if not text:
        return Text(default, locale, fallback=False)
    return Text(text, lang, fallback=lang != locale)


def role_text(title: dict[str, str] | None, locale: str) -> Text:
    """A contact point's role: a known role's label in the reader's language, else as stored."""
    label = role_label(title, locale)
    return Text(label, locale, fallback=False) if label else text_for(title, locale)


def organisation_page(
    organization: Organization, viewer: Viewer, locale: str, today: date | None = None
) -> OrganisationPage:
    """The organisation as ``viewer`` may see it, in ``locale`` (staleness as of ``today``)."""
    taxonomy = load_taxonomy()
    today = today or brussels_day(utcnow())

    def visible(visibility: str) -> bool:
        return can_see_child(viewer, organization, visibility)

    def labels(vocabulary: str, codes: list[str]) -> list[str]:
        return [taxonomy.label(vocabulary, code, locale) for code in codes]

    return OrganisationPage(
        id=organization.id,
        ref=organization.ref,
        name=text_for(organization.name_i18n, locale, organization.name),
        description=text_for(organization.description, locale),
        org_type=taxonomy.label("org_type", organization.org_type, locale),
        country=taxonomy.label("country", organization.country, locale),
        region=organization.region,
        city=organization.city,
        website=organization.website,
        email=organization.email,
        is_24_7=organization.is_24_7,
        accepts_cross_border_referrals=organization.accepts_cross_border_referrals,
        visibility=organization.visibility,
        is_published=organization.is_published,
        verification_status=organization.verification_status,
        last_verified_at=organization.last_verified_at,
        next_review_on=organization.next_review_on,
        address=_address(organization, viewer),
        stale=viewer.clearance > 0 and is_stale(organization, today),
        exploitation_forms=labels("exploitation_form", organization.codes("exploitation_form")),
        target_groups=labels("target_group", organization.codes("target_group")),
        languages=labels("language", organization.language_codes),
        services=[
            ServiceView(
                name=text_for(service.name_i18n, locale, service.name),
                type_label=taxonomy.label("service_type", service.service_type, locale),
                description=text_for(service.description, locale),
                active=service.status == "active",
            )
            for service in organization.services
            if visible(service.visibility)
        ],
        phones=[
            (phone.number, phone.is_emergency)
            for phone in sorted(organization.phones, key=lambda p: not p.is_emergency)
            if phone.contact_id is None and visible(phone.visibility)
        ],
        contact_points=[
            ContactPointView(
                title=role_text(contact.title, locale),
                name=contact.name,
                email=contact.email,
                phone=next(
                    (p.number for p in contact.phones if visible(p.visibility)),
                    None,
                ),
                languages=labels("language", list(contact.languages or [])),
                visibility=contact.visibility,
            )
            for contact in organization.contacts
            if visible(contact.visibility)
        ],
    )


def _address(organization: Organization, viewer: Viewer) -> AddressView | None:
    location = organization.locations[0] if organization.locations else None
    address = location.addresses[0] if location and location.addresses else None
    if address is None:
        return None
    city = address.city or organization.city
    shown = (
        location is not None
        and can_see_child(viewer, organization, location.visibility)
        and can_see_child(viewer, organization, address.visibility)
        and address.address_1
    )
    if not shown:
        withheld = address.visibility in ("secretariat", "not_stored") or bool(address.address_1)
        return AddressView(None, None, city, withheld=withheld)
    return AddressView(address.address_1, address.postal_code, city, withheld=False)
