"""Map cells for searching within a radius without measuring every organisation in it.

The world is cut into a quadtree of latitude/longitude cells: at level ``z`` a cell is
180/2^z degrees of latitude by 360/2^z of longitude (at level 15 about 0.6 by 0.8 km in the
Benelux). Every organisation is indexed with the name of its cell at each of ``LEVELS``. A
circle is then covered by cells that lie wholly inside it — whose organisations tantivy can count
and facet without Python looking at them — and a ring of small cells along its edge, whose
organisations alone have their distance measured. The nearest organisations are found in blocks
of cells around the centre, growing until the block is known to hold them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import asin, cos, degrees, floor, radians, sin, sqrt

from search.columns import EARTH_RADIUS_KM

LEVELS = range(4, 18)
FINEST = LEVELS[-1]
# Boundary cells are about radius/EDGE_CELLS across: finer means fewer organisations to measure
# but more cells to name in the query.
EDGE_CELLS = 20
# Cells are only trusted to lie inside or outside a circle by this much more than rounding.
MARGIN_KM = 1e-6
# Beyond these a circle may wrap around a pole or the antimeridian: measure every match instead.
MAX_ABS_LAT = 85.0
MAX_ABS_LON = 175.0


def _size(level: int) -> tuple[float, float]:
    """Degrees of latitude and longitude a cell spans at ``level``."""
    return 180.0 / (1 << level), 360.0 / (1 << level)


def cell_area_km2(level: int) -> float:
    """About how many square kilometres a cell covers at ``level`` (at 51 degrees north)."""
    dlat, dlon = _size(level)
    return dlat * 111.2 * dlon * 70.0


def cell(level: int, x: int, y: int) -> str:
    """The indexed name of a cell."""
    return f"{level}:{x}:{y}"


def cells_of(lat: float, lon: float) -> list[str]:
    """The cells holding a point, one per level in ``LEVELS``."""
    found = []
    for level in LEVELS:
        dlat, dlon = _size(level)
        found.append(cell(level, floor((lon + 180.0) / dlon), floor((lat + 90.0) / dlat)))
    return found


def curve_position(lat: float | None, lon: float | None) -> int:
    """Where a point falls along a Z-order curve through the finest cells (places close on the
    map are mostly close on the curve); unknown places after every known one."""
    if lat is None or lon is None:
        return 1 << (2 * FINEST)
    dlat, dlon = _size(FINEST)
    x, y = floor((lon + 180.0) / dlon), floor((lat + 90.0) / dlat)
    position = 0
    for bit in range(FINEST):
        position |= ((x >> bit) & 1) << (2 * bit) | ((y >> bit) & 1) << (2 * bit + 1)
    return position


def _half_width(lat0: float, cos_lat0: float, h: float, lat: float) -> float:
    """Half the circle's width in longitude (degrees) at latitude ``lat``; -1 if it misses it.

    ``h`` is the haversine of the radius as an angle; the circle's points at ``lat`` are those
    whose longitude is within the returned value of the centre's.
    """
    rest = h - sin(radians(lat - lat0) / 2) ** 2
    if rest < 0:
        return -1.0
    across = cos_lat0 * cos(radians(lat))
    if across <= 0:
        return -1.0
    ratio = sqrt(rest / across)
    return 360.0 if ratio >= 1 else degrees(2 * asin(ratio))


@dataclass(frozen=True)
class Cover:
    """The cells covering a circle: ``inside`` wholly within it, ``edge`` crossing its edge."""

    inside: tuple[str, ...]
    edge: tuple[str, ...]


def supported(lat: float, lon: float, radius_km: float) -> bool:
    """True when a circle stays clear of the poles and the antimeridian (cells can cover it)."""
    spread = degrees(radius_km / EARTH_RADIUS_KM)
    if abs(lat) + spread > MAX_ABS_LAT:
        return False
    return abs(lon) + spread / max(0.05, cos(radians(abs(lat) + spread))) <= MAX_ABS_LON


def edge_level(radius_km: float) -> int:
    """The level of the edge cells for a radius (about radius/EDGE_CELLS across)."""
    target = radius_km / EDGE_CELLS
    level = LEVELS[0]
    while level < FINEST and _size(level)[0] * 111.2 > target:
        level += 1
    return level


def _inside_range(lon0: float, width: float, dlon: float) -> tuple[int, int]:
    """Cells ``x`` of a row whose sides are both within ``width`` degrees of ``lon0``."""
    if width < 0:
        return 0, -1
    first = floor((lon0 - width + 180) / dlon)
    while first * dlon - 180 < lon0 - width:
        first += 1
    last = floor((lon0 + width + 180) / dlon)
    while (last + 1) * dlon - 180 > lon0 + width:
        last -= 1
    return first, last


def _minus(first: int, last: int, taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The ranges of first..last (inclusive) outside every ``taken`` range."""
    left = [(first, last)]
    for a, b in taken:
        left = [
            part
            for lo, hi in left
            for part in ((lo, min(hi, a - 1)), (max(lo, b + 1), hi))
            if part[0] <= part[1]
        ]
    return left


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The same integers as ``spans``, as few sorted ranges."""
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def _cells(level: int, y: int, spans: list[tuple[int, int]]) -> list[str]:
    return [cell(level, x, y) for lo, hi in spans for x in range(lo, hi + 1)]


@lru_cache(maxsize=4096)
def cover(lat0: float, lon0: float, radius_km: float) -> Cover:
    """Cells wholly inside the circle (as coarse as possible) and cells along its edge.

    Every point within the radius is in exactly one returned cell, and every point of an
    ``inside`` cell is within the radius (the farthest point of a cell is one of its corners,
    and each row of cells is inside where both its edges are). Call only when ``supported``.
    """
    finest = edge_level(radius_km)
    cos_lat0 = cos(radians(lat0))
    rho = radius_km / EARTH_RADIUS_KM
    h_in = sin(max(0.0, radius_km - MARGIN_KM) / EARTH_RADIUS_KM / 2) ** 2
    h_out = sin((radius_km + MARGIN_KM) / EARTH_RADIUS_KM / 2) ** 2
    spread = degrees(rho) + 1e-9
    # The latitude where the circle is widest (where a meridian touches it), a little poleward.
    widest = degrees(asin(min(1.0, sin(radians(lat0)) / cos(rho))))
    inside: list[str] = []
    edge: list[str] = []
    # held[row]: ranges of the previous level's columns that inside cells already cover
    held: dict[int, list[tuple[int, int]]] = {}
    for level in range(LEVELS[0], finest + 1):
        dlat, dlon = _size(level)
        rows: dict[int, list[tuple[int, int]]] = {}
        for y in range(floor((lat0 - spread + 90) / dlat), floor((lat0 + spread + 90) / dlat) + 1):
            south, north = y * dlat - 90, (y + 1) * dlat - 90
            width = min(
                _half_width(lat0, cos_lat0, h_in, south), _half_width(lat0, cos_lat0, h_in, north)
            )
            first, last = _inside_range(lon0, width, dlon)
            taken = [(a * 2, b * 2 + 1) for a, b in held.get(y >> 1, ())]
            if first <= last:
                fresh = _minus(first, last, taken)
                inside += _cells(level, y, fresh)
                taken = _merge([*taken, *fresh])
            if taken:
                rows[y] = taken
            if level == finest:
                reach = _half_width(lat0, cos_lat0, h_out, min(max(widest, south), north))
                if reach < 0:
                    reach = _half_width(lat0, cos_lat0, h_out, min(max(lat0, south), north))
                if reach >= 0:
                    west = floor((lon0 - reach + 180) / dlon)
                    east = floor((lon0 + reach + 180) / dlon)
                    edge += _cells(level, y, _minus(west, east, taken))
        held = rows
    return Cover(tuple(inside), tuple(edge))


@dataclass(frozen=True)
class Block:
    """A 3 by 3 block of cells around a point and how far the point is from its outside."""

    cells: tuple[str, ...]
    clear_km: float


def block(lat0: float, lon0: float, level: int) -> Block:
    """The cell holding the point at ``level`` and its eight neighbours.

    ``clear_km`` is at most the distance from the point to anything outside the block.
    """
    dlat, dlon = _size(level)
    x, y = floor((lon0 + 180) / dlon), floor((lat0 + 90) / dlat)
    south, north = (y - 1) * dlat - 90, (y + 2) * dlat - 90
    west, east = (x - 1) * dlon - 180, (x + 2) * dlon - 180
    cos_lat0 = cos(radians(lat0))
    # the distance to a meridian is asin(cos(lat) * sin(dlon)) as an angle, to a parallel dlat
    gaps = [
        radians(lat0 - south),
        radians(north - lat0),
        asin(min(1.0, cos_lat0 * sin(radians(min(90.0, lon0 - west))))),
        asin(min(1.0, cos_lat0 * sin(radians(min(90.0, east - lon0))))),
    ]
    clear = max(0.0, min(gaps) * EARTH_RADIUS_KM - MARGIN_KM)
    cells = tuple(cell(level, x + i, y + j) for j in (-1, 0, 1) for i in (-1, 0, 1))
    return Block(cells, clear)
