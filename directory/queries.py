"""Reads of the directory, always through a viewer so nothing leaks by accident."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from core.audit import AuditEntry
from directory.models import Contact, Location, Organization, Service
from directory.visibility import Viewer, can_see_organization, organization_filter

_LOAD = (
    selectinload(Organization.services),
    selectinload(Organization.locations).selectinload(Location.addresses),
    selectinload(Organization.phones),
    selectinload(Organization.contacts),
    selectinload(Organization.languages),
    selectinload(Organization.attributes),
)


def list_organizations(
    session: Session,
    viewer: Viewer,
    *,
    country: str | None = None,
    org_type: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[Organization]:
    """Organisations the viewer may see, by country then name."""
    statement = select(Organization).where(organization_filter(viewer)).options(*_LOAD)
    if country:
        statement = statement.where(Organization.country == country)
    if org_type:
        statement = statement.where(Organization.org_type == org_type)
    statement = statement.order_by(Organization.country, Organization.name).offset(offset)
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.scalars(statement))


def count_organizations(session: Session, viewer: Viewer) -> int:
    """How many organisations the viewer may see."""
    statement = select(func.count()).select_from(Organization).where(organization_filter(viewer))
    return int(session.scalar(statement) or 0)


def get_organization(session: Session, viewer: Viewer, key: str) -> Organization | None:
    """One organisation by id or import ref, or None when absent or not visible to the viewer."""
    statement = (
        select(Organization)
        .where((Organization.id == key) | (Organization.ref == key))
        .options(*_LOAD)
    )
    organization = session.scalars(statement).first()
    if organization is None or not can_see_organization(viewer, organization):
        return None
    return organization


# Organisations with every child the import format, the exports and the APIs show.
FULL_ORGANISATION = (
    *_LOAD,
    selectinload(Organization.contacts).selectinload(Contact.phones),
    selectinload(Organization.services).selectinload(Service.schedules),
    selectinload(Organization.services).selectinload(Service.service_areas),
)


def count_matching_organizations(
    session: Session, viewer: Viewer, *, country: str | None = None, org_type: str | None = None
) -> int:
    """How many organisations the viewer may see among those of a country and type."""
    statement = select(func.count()).select_from(Organization).where(organization_filter(viewer))
    if country:
        statement = statement.where(Organization.country == country)
    if org_type:
        statement = statement.where(Organization.org_type == org_type)
    return int(session.scalar(statement) or 0)


def _services_statement(viewer: Viewer, organization_id: str | None) -> Select[Any]:
    statement = (
        select(Service)
        .join(Service.organization)
        .where(organization_filter(viewer), Service.visibility.in_(viewer.allowed()))
    )
    if organization_id:
        statement = statement.where(Service.organization_id == organization_id)
    return statement


def list_services(
    session: Session,
    viewer: Viewer,
    *,
    organization_id: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[Service]:
    """Services the viewer may see (their organisation too), by organisation name then order."""
    statement = (
        _services_statement(viewer, organization_id)
        .options(selectinload(Service.organization).options(*FULL_ORGANISATION))
        .order_by(Organization.name, Organization.id, Service.position, Service.id)
        .offset(offset)
    )
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.scalars(statement))


def count_services(session: Session, viewer: Viewer, *, organization_id: str | None = None) -> int:
    """How many services the viewer may see."""
    inner = _services_statement(viewer, organization_id).with_only_columns(Service.id)
    return int(session.scalar(select(func.count()).select_from(inner.subquery())) or 0)


def get_service(session: Session, viewer: Viewer, service_id: str) -> Service | None:
    """One service by id, or None when absent or not visible to the viewer."""
    statement = _services_statement(viewer, None).where(Service.id == service_id)
    service: Service | None = session.scalars(statement).first()
    return service


def count_organizations_by(
    session: Session, viewer: Viewer, grouping: str, *, country: str | None = None
) -> dict[str, int]:
    """How many organisations the viewer may see per ``country`` or ``org_type``."""
    column = {"country": Organization.country, "org_type": Organization.org_type}[grouping]
    statement = select(column, func.count()).where(organization_filter(viewer)).group_by(column)
    if country:
        statement = statement.where(Organization.country == country)
    return {str(key): int(count) for key, count in session.execute(statement)}


def organisation_history(session: Session, organization_id: str) -> list[tuple[AuditEntry, str]]:
    """The audit history of one organisation and its children, newest first, with who did it."""
    from accounts.models import User

    statement = (
        select(AuditEntry, User.display_name, User.email)
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .where(AuditEntry.organization_id == organization_id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id)
    )
    return [(entry, name or email or "") for entry, name, email in session.execute(statement)]
