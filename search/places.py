"""Benelux towns for search: the directory's place data (``directory.places``), re-exported.

The data moved to the directory, which needs a town's centre to place a confidential address;
``directory`` never imports ``search``, so search imports it from there.
"""

from __future__ import annotations

from directory.places import (
    COUNTRIES,
    EXONYMS,
    Gazetteer,
    GeoPoint,
    Place,
    bounding_box,
    fold,
    gazetteer,
    haversine_km,
)

__all__ = [
    "COUNTRIES",
    "EXONYMS",
    "Gazetteer",
    "GeoPoint",
    "Place",
    "bounding_box",
    "fold",
    "gazetteer",
    "haversine_km",
]
