"""Reads of the directory, always through a viewer so nothing leaks by accident."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from directory.models import Location, Organization
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
