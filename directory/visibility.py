"""Who may see what: a viewer's clearance against a record's visibility.

A child record (service, location, address, phone, contact point) is shown only when both it and
its organisation are visible to the viewer, so a child is never more visible than its parent.
Unpublished organisations are shown to the secretariat only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, true

from directory.models import Organization, Visibility

_LEVEL = {Visibility.PUBLIC: 0, Visibility.NETWORK: 1, Visibility.SECRETARIAT: 2}


@dataclass(frozen=True)
class Viewer:
    """The person looking, reduced to what visibility needs."""

    clearance: int = 0  # 0 anonymous, 1 network member, 2 secretariat
    user_id: str | None = None
    role: str | None = None
    organization_ids: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_secretariat(self) -> bool:
        """Secretariat and admins see every record, confidential ones included."""
        return self.clearance >= 2

    @property
    def audience(self) -> str:
        """``public``, ``network`` or ``secretariat``: the widest visibility this viewer sees."""
        return ("public", "network", "secretariat")[self.clearance]

    def allowed(self) -> list[str]:
        """The visibility values this viewer may see."""
        return [v.value for v, level in _LEVEL.items() if level <= self.clearance]


ANONYMOUS = Viewer()
SECRETARIAT = Viewer(clearance=2, role="secretariat")


def viewer_for(user: Any | None) -> Viewer:
    """The viewer for a signed-in person (or anonymous when ``user`` is None)."""
    if user is None or not getattr(user, "is_active", False):
        return ANONYMOUS
    role = str(user.role)
    clearance = 2 if role in {"secretariat", "admin"} else 1
    return Viewer(
        clearance=clearance,
        user_id=str(user.id),
        role=role,
        organization_ids=frozenset(o.id for o in user.organizations),
    )


def viewer_for_audience(audience: str) -> Viewer:
    """A viewer of the given audience (``public``, ``network``/``member``, ``secretariat``)."""
    levels = {"public": 0, "anonymous": 0, "network": 1, "member": 1, "secretariat": 2}
    if audience not in levels:
        raise ValueError(f"unknown audience {audience!r}")
    return Viewer(clearance=levels[audience])


def can_see(viewer: Viewer, visibility: str) -> bool:
    """True when a record of this visibility may be shown to the viewer."""
    if visibility == Visibility.NOT_STORED:
        return False
    return _LEVEL[Visibility(visibility)] <= viewer.clearance


def can_see_organization(viewer: Viewer, organization: Organization) -> bool:
    """True when the organisation itself may be shown (published and visible enough)."""
    if not organization.is_published and not viewer.is_secretariat:
        return False
    return can_see(viewer, organization.visibility)


def can_see_child(viewer: Viewer, organization: Organization, visibility: str) -> bool:
    """True when a child record of the organisation may be shown."""
    return can_see_organization(viewer, organization) and can_see(viewer, visibility)


def organization_filter(viewer: Viewer) -> ColumnElement[bool]:
    """SQL condition selecting the organisations the viewer may see."""
    if viewer.is_secretariat:
        return true()
    return and_(Organization.is_published.is_(True), Organization.visibility.in_(viewer.allowed()))
