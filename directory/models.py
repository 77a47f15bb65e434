"""Directory models, named after Open Referral HSDS 3.1 with the network's additions.

Translatable text is a JSON object keyed by language (``{"nl": …, "fr": …}``). Visibility is one
of ``public`` / ``network`` / ``secretariat`` (addresses also ``not_stored``); a child is never
more visible than its parent, which ``directory.visibility`` enforces when showing a record.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, id_column, new_id, utcnow


class Visibility(enum.StrEnum):
    """Who may see a record, from widest to narrowest audience."""

    PUBLIC = "public"
    NETWORK = "network"
    SECRETARIAT = "secretariat"
    NOT_STORED = "not_stored"  # addresses only: the street address is never stored

    @property
    def rank(self) -> int:
        """0 public, 1 network, 2 secretariat, 3 not stored (shown to no one)."""
        return list(Visibility).index(self)


VISIBILITY_CHECK = "visibility IN ('public', 'network', 'secretariat')"
ADDRESS_VISIBILITY_CHECK = "visibility IN ('public', 'network', 'secretariat', 'not_stored')"
I18n = dict[str, str]


class Organization(Base):
    """A member organisation of the network (HSDS ``organization``)."""

    __tablename__ = "organization"
    __table_args__ = (CheckConstraint(VISIBILITY_CHECK, name="visibility"),)

    id: Mapped[str] = mapped_column(id_column(), primary_key=True, default=new_id)
    ref: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    name_i18n: Mapped[I18n] = mapped_column(JSON, default=dict)
    alternate_name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    description: Mapped[I18n] = mapped_column(JSON, default=dict)
    country: Mapped[str] = mapped_column(String(2), index=True)
    region: Mapped[str | None] = mapped_column(String(10), nullable=True)
    city: Mapped[str | None] = mapped_column(String(120), nullable=True)
    org_type: Mapped[str] = mapped_column(String(60), index=True)
    website: Mapped[str | None] = mapped_column(String(500), nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    is_24_7: Mapped[bool] = mapped_column(Boolean, default=False)
    accepts_cross_border_referrals: Mapped[bool] = mapped_column(Boolean, default=False)
    visibility: Mapped[str] = mapped_column(String(12), default=Visibility.NETWORK.value)
    is_published: Mapped[bool] = mapped_column(Boolean, default=True)
    verification_status: Mapped[str] = mapped_column(String(20), default="unverified")
    last_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    next_review_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    review_interval_days: Mapped[int] = mapped_column(Integer, default=365)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    services: Mapped[list[Service]] = relationship(
        back_populates="organization", cascade="all, delete-orphan", order_by="Service.position"
    )
    locations: Mapped[list[Location]] = relationship(
        back_populates="organization", cascade="all, delete-orphan"
    )
    phones: Mapped[list[Phone]] = relationship(
        back_populates="organization", cascade="all, delete-orphan"
    )
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="organization", cascade="all, delete-orphan", order_by="Contact.position"
    )
    languages: Mapped[list[Language]] = relationship(
        back_populates="organization", cascade="all, delete-orphan", order_by="Language.position"
    )
    attributes: Mapped[list[Attribute]] = relationship(
        back_populates="organization", cascade="all, delete-orphan"
    )

    def codes(self, vocabulary: str) -> list[str]:
        """Taxonomy codes of one vocabulary attached to this organisation, in stored order."""
        return [
            a.term_code
            for a in sorted(self.attributes, key=lambda a: a.position)
            if a.vocabulary == vocabulary
        ]

    @property
    def language_codes(self) -> list[str]:
        """The organisation's working languages."""
        return [language.code for language in self.languages]


class Service(Base):
    """Something an organisation offers, one per service type (HSDS ``service``)."""

    __tablename__ = "service"
    __table_args__ = (CheckConstraint(VISIBILITY_CHECK, name="visibility"),)

    id: Mapped[str] = mapped_column(id_column(), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        id_column(), ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    service_type: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(300))
    name_i18n: Mapped[I18n] = mapped_column(JSON, default=dict)
    description: Mapped[I18n] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="active")
    visibility: Mapped[str] = mapped_column(String(12), default=Visibility.NETWORK.value)
    position: Mapped[int] = mapped_column(Integer, default=0)

    organization: Mapped[Organization] = relationship(back_populates="services")
    schedules: Mapped[list[Schedule]] = relationship(
        back_populates="service", cascade="all, delete-orphan"
    )
    service_areas: Mapped[list[ServiceArea]] = relationship(
        back_populates="service", cascade="all, delete-orphan"
    )


class Location(Base):
    """Where an organisation is (HSDS ``location``); its point is read by ``directory.points``."""

    __tablename__ = "location"
    __table_args__ = (CheckConstraint(VISIBILITY_CHECK, name="visibility"),)

    id: Mapped[str] = mapped_column(id_column(), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        id_column(), ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # The stored point is private: only ``directory.points`` reads or writes it, so that every
    # channel shows a confidential address's town centre instead (see docs/security.md).
    _latitude: Mapped[float | None] = mapped_column("latitude", Float, nullable=True)
    _longitude: Mapped[float | None] = mapped_column("longitude", Float, nullable=True)
    visibility: Mapped[str] = mapped_column(String(12), default=Visibility.NETWORK.value)

    organization: Mapped[Organization] = relationship(back_populates="locations")
    addresses: Mapped[list[Address]] = relationship(
        back_populates="location", cascade="all, delete-orphan"
    )


class Address(Base):
    """A postal address of a location (HSDS ``address``); the street may be withheld."""

    __tablename__ = "address"
    __table_args__ = (CheckConstraint(ADDRESS_VISIBILITY_CHECK, name="visibility"),)

    id: Mapped[str] = mapped_column(id_column(), primary_key=True, default=new_id)
    location_id: Mapped[str] = mapped_column(
        id_column(), ForeignKey("location.id", ondelete="CASCADE"), index=True
    )
    address_1: Mapped[str | None] = mapped_column(String(300), nullable=True)
    city: Mapped[str | None] = mapped_column(String(120), nullable=True)
    region: Mapped[str | None] = mapped_column(String(10), nullable=True)
    postal_code: Mapped[str | None] = mapped_column(String(20), nullable=True)
    country: Mapped[str] = mapped_column(String(2))
    address_type: Mapped[str] = mapped_column(String(20), default="physical")
    visibility: Mapped[str] = mapped_column(String(12), default=Visibility.SECRETARIAT.value)

    location: Mapped[Location] = relationship(back_populates="addresses")


class Phone(Base):
    """A telephone number in E.164 form (HSDS ``phone``); ``is_emergency`` marks the 24/7 line."""

    __tablename__ = "phone"
    __table_args__ = (CheckConstraint(VISIBILITY_CHECK, name="visibility"),)

    id: Mapped[str] = mapped_column(id_column(), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        id_column(), ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[str | None] = mapped_column(
        id_column(), ForeignKey("contact.id", ondelete="CASCADE"), nullable=True, index=True
    )
    number: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(20), default="voice")
    is_emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    visibility: Mapped[str] = mapped_column(String(12), default=Visibility.NETWORK.value)

    organization: Mapped[Organization] = relationship(back_populates="phones")
    contact: Mapped[Contact | None] = relationship(back_populates="phones")


class Contact(Base):
    """A contact point of an organisation (HSDS ``contact``)."""

    __tablename__ = "contact"
    __table_args__ = (CheckConstraint(VISIBILITY_CHECK, name="visibility"),)

    id: Mapped[str] = mapped_column(id_column(), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        id_column(), ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    title: Mapped[I18n] = mapped_column(JSON, default=dict)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    visibility: Mapped[str] = mapped_column(String(12), default=Visibility.NETWORK.value)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # The organisation's backup contact: told when a referral's service level is missed.
    is_backup: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    organization: Mapped[Organization] = relationship(back_populates="contacts")
    phones: Mapped[list[Phone]] = relationship(back_populates="contact")


class Language(Base):
    """A working language of an organisation (HSDS ``language``)."""

    __tablename__ = "language"
    __table_args__ = (UniqueConstraint("organization_id", "code", name="organization_code"),)

    id: Mapped[str] = mapped_column(id_column(), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        id_column(), ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(8))
    position: Mapped[int] = mapped_column(Integer, default=0)

    organization: Mapped[Organization] = relationship(back_populates="languages")


class Schedule(Base):
    """When a service is available (HSDS ``schedule``); 24/7 services carry one daily rule."""

    __tablename__ = "schedule"

    id: Mapped[str] = mapped_column(id_column(), primary_key=True, default=new_id)
    service_id: Mapped[str] = mapped_column(
        id_column(), ForeignKey("service.id", ondelete="CASCADE"), index=True
    )
    freq: Mapped[str | None] = mapped_column(String(10), nullable=True)
    opens_at: Mapped[str | None] = mapped_column(String(8), nullable=True)
    closes_at: Mapped[str | None] = mapped_column(String(8), nullable=True)
    description: Mapped[I18n] = mapped_column(JSON, default=dict)

    service: Mapped[Service] = relationship(back_populates="schedules")


class ServiceArea(Base):
    """Where a service is offered, by country or region (HSDS ``service_area``)."""

    __tablename__ = "service_area"

    id: Mapped[str] = mapped_column(id_column(), primary_key=True, default=new_id)
    service_id: Mapped[str] = mapped_column(
        id_column(), ForeignKey("service.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    extent_type: Mapped[str | None] = mapped_column(String(20), nullable=True)

    service: Mapped[Service] = relationship(back_populates="service_areas")


class Taxonomy(Base):
    """One vocabulary of the network's taxonomy (HSDS ``taxonomy``)."""

    __tablename__ = "taxonomy"

    id: Mapped[str] = mapped_column(id_column(), primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[str] = mapped_column(String(20), default="1")


class TaxonomyTerm(Base):
    """One code of a vocabulary with its labels and synonyms (HSDS ``taxonomy_term``)."""

    __tablename__ = "taxonomy_term"
    __table_args__ = (UniqueConstraint("vocabulary", "code", name="vocabulary_code"),)

    id: Mapped[str] = mapped_column(id_column(), primary_key=True)
    taxonomy_id: Mapped[str] = mapped_column(
        id_column(), ForeignKey("taxonomy.id", ondelete="CASCADE"), index=True
    )
    vocabulary: Mapped[str] = mapped_column(String(60))
    code: Mapped[str] = mapped_column(String(60))
    labels: Mapped[I18n] = mapped_column(JSON, default=dict)
    synonyms: Mapped[list[str]] = mapped_column(JSON, default=list)


class Attribute(Base):
    """A taxonomy term attached to an organisation (HSDS ``attribute``)."""

    __tablename__ = "attribute"
    __table_args__ = (
        UniqueConstraint("organization_id", "taxonomy_term_id", name="organization_term"),
    )

    id: Mapped[str] = mapped_column(id_column(), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        id_column(), ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    taxonomy_term_id: Mapped[str] = mapped_column(
        id_column(), ForeignKey("taxonomy_term.id", ondelete="RESTRICT"), index=True
    )
    vocabulary: Mapped[str] = mapped_column(String(60))
    term_code: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(Integer, default=0)

    organization: Mapped[Organization] = relationship(back_populates="attributes")


def i18n_text(value: dict[str, Any] | None, locale: str, fallback: str = "en") -> tuple[str, str]:
    """The text in ``locale``, else the fallback language, else any; with the language used."""
    value = value or {}
    for lang in (locale, fallback, "nl", "fr", "de", "en"):
        if value.get(lang):
            return str(value[lang]), lang
    return "", locale


class ChangeRequest(Base):
    """A contact point's or organisation editor's proposed change to their own organisation.

    ``base`` holds the proposed fields' values when the proposal was made and ``changes`` the
    proposed values, both keyed by field, so the secretariat reviews a side-by-side diff and a
    change made meanwhile shows as a conflict. Status: pending → approved | rejected | withdrawn.
    """

    __tablename__ = "change_request"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'withdrawn')", name="status"
        ),
    )

    id: Mapped[str] = mapped_column(id_column(), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        id_column(), ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    proposer_id: Mapped[str | None] = mapped_column(
        id_column(), ForeignKey("user_account.id", ondelete="SET NULL"), index=True, nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    base: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    proposer_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    reviewer_id: Mapped[str | None] = mapped_column(
        id_column(), ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True
    )
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    review_note: Mapped[str | None] = mapped_column(Text, nullable=True)


class VerificationRequest(Base):
    """One e-mailed, signed and expiring link asking an organisation to confirm its entry.

    The link carries the request id and an HMAC; the row makes it single-use (``used_at``) and
    lets the job send one request per review period (unique per organisation and due date).
    """

    __tablename__ = "verification_request"
    __table_args__ = (UniqueConstraint("organization_id", "due_on", name="organization_due_on"),)

    id: Mapped[str] = mapped_column(id_column(), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        id_column(), ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    due_on: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    used_by: Mapped[str | None] = mapped_column(
        id_column(), ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True
    )
    outcome: Mapped[str | None] = mapped_column(String(12), nullable=True)  # confirmed | corrected
    overdue_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
