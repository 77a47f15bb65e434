"""The one place that decides which point on the map a caller may see for an organisation.

A shelter's exact position is the one thing that must never leave the secretariat. A location's
stored coordinates are private attributes of the model (``Location._latitude``) and this module
is the only reader: every page, API answer, export and search document asks ``point_for``.

The rule: a caller to whom the location's street address is not public (``secretariat``
addresses for anyone but the secretariat, ``not_stored`` addresses for everyone) gets the centre
of the organisation's town from the bundled place data, the same point for every organisation of
that town, so the point tells no more than the town name already does. The exact point is kept
for ``secretariat`` addresses (and shown to the secretariat alone) and not kept at all for
``not_stored`` ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from directory.models import Location, Organization, Visibility
from directory.places import Gazetteer, gazetteer
from directory.visibility import Viewer, can_see, can_see_child

Precision = Literal["exact", "town"]


@dataclass(frozen=True)
class PublicPoint:
    """A point a caller may see: the stored one (``exact``) or the town's centre (``town``)."""

    lat: float
    lon: float
    precision: Precision

    @property
    def is_exact(self) -> bool:
        """True when this is the stored point rather than the town's centre."""
        return self.precision == "exact"


def places_for(data_dir: Path) -> Gazetteer:
    """The bundled Benelux place data (read once per process, cached under ``data_dir``)."""
    return gazetteer(data_dir / "search")


def main_location(organization: Organization) -> Location | None:
    """The location an organisation is placed by (its first one)."""
    return organization.locations[0] if organization.locations else None


def keeps_point(location: Location) -> bool:
    """False when an address of the location is ``not_stored``: then no exact point is kept."""
    return all(address.visibility != Visibility.NOT_STORED for address in location.addresses)


def exact_allowed(viewer: Viewer | None, organization: Organization, location: Location) -> bool:
    """True when the viewer may see the location's exact point (``None``: the record itself).

    The exact point is as private as the location's street address: every address of the
    location must be visible to the viewer (``not_stored`` is visible to no one).
    """
    if not keeps_point(location):
        return False
    if viewer is None:
        return True
    if not can_see_child(viewer, organization, location.visibility):
        return False
    return all(can_see(viewer, address.visibility) for address in location.addresses)


def town_point(organization: Organization, places: Gazetteer | None) -> PublicPoint | None:
    """The centre of the organisation's town, or None when the town is unknown."""
    if places is None or not organization.city:
        return None
    place = places.find(organization.city)
    return PublicPoint(place.lat, place.lon, "town") if place is not None else None


def point_for(
    viewer: Viewer | None,
    organization: Organization,
    places: Gazetteer | None,
    location: Location | None = None,
) -> PublicPoint | None:
    """The point this viewer may see for the organisation (at ``location``, else its main one).

    ``viewer=None`` asks for the record as stored (the importer comparing a line with what is
    there, the secretariat's full export); every caller-facing channel passes the caller.
    Where the exact point may not be shown, or none is stored, the town's centre stands in.
    """
    location = location if location is not None else main_location(organization)
    if viewer is None:  # the record as stored: never a town centre in its place
        return stored_point(location) if location is not None and keeps_point(location) else None
    if location is not None and exact_allowed(viewer, organization, location):
        stored = stored_point(location)
        if stored is not None:
            return stored
    return town_point(organization, places)


def stored_point(location: Location) -> PublicPoint | None:
    """The location's stored point; only for ``point_for`` and for writing code that compares."""
    if location._latitude is None or location._longitude is None:
        return None
    return PublicPoint(location._latitude, location._longitude, "exact")


def place_location(location: Location, lat: float | None, lon: float | None) -> bool:
    """Store a point for the location, unless it has a ``not_stored`` address.

    Returns False when a supplied point was dropped (the caller says so to the person).
    """
    if lat is None or lon is None or not keeps_point(location):
        location._latitude, location._longitude = None, None
        return lat is None or lon is None
    location._latitude, location._longitude = lat, lon
    return True
