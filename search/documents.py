"""Search documents built from the directory: what each audience may find an organisation by.

One organisation gives one document per audience that may see it, merged when two audiences
see the same thing; a document never holds a service or a location its audiences may not see,
and its point is the one ``directory.points`` gives its audience (a confidential address's town
centre), so radius filters, distance sort and distances never reach a stored point.
Text is indexed in every language it is written in, and every taxonomy code with its labels in
NL/FR/DE/EN and its synonyms, so a query in one language finds an entry written in another; the
domain's concepts (``search.domain``) it is about are listed by how it is about them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from directory.models import Location, Organization
from directory.points import point_for
from directory.taxonomy import TaxonomyData, load_taxonomy
from directory.visibility import (
    can_see,
    can_see_child,
    can_see_organization,
    viewer_for_audience,
)
from search.analysis import LANGUAGES
from search.backend import SearchDocument
from search.domain import document_concepts
from search.places import Gazetteer
from search.query import AUDIENCES

CODE_FIELDS = ("exploitation_form", "target_group", "service_type")
_LOAD = (
    selectinload(Organization.services),
    selectinload(Organization.locations).selectinload(Location.addresses),
    selectinload(Organization.languages),
    selectinload(Organization.attributes),
)


def _labels(taxonomy: TaxonomyData, vocabulary: str, code: str) -> tuple[dict[str, str], list[str]]:
    term = taxonomy.get(vocabulary, code)
    if term is None:
        return {}, [code]
    return dict(term.labels), list(term.synonyms)


def _position(
    organization: Organization, audience: str, places: Gazetteer | None
) -> tuple[float | None, float | None, str | None]:
    """The point this audience may see (``directory.points``): exact, town centre, or none."""
    point = point_for(viewer_for_audience(audience), organization, places)
    return (point.lat, point.lon, point.precision) if point is not None else (None, None, None)


def _document(
    organization: Organization, audience: str, taxonomy: TaxonomyData, places: Gazetteer | None
) -> SearchDocument:
    viewer = viewer_for_audience(audience)
    services = [
        s for s in organization.services if can_see_child(viewer, organization, s.visibility)
    ]
    codes: dict[str, list[str]] = {name: organization.codes(name) for name in CODE_FIELDS}
    for service in services:
        if service.service_type not in codes["service_type"]:
            codes["service_type"].append(service.service_type)
    per_language: dict[str, list[str]] = {lang: [] for lang in LANGUAGES}
    keywords: list[str] = []
    for vocabulary, values in [("org_type", [organization.org_type]), *codes.items()]:
        for code in values:
            labels, synonyms = _labels(taxonomy, vocabulary, code)
            keywords.extend([*labels.values(), *synonyms])
            for lang, label in labels.items():
                if lang in per_language:
                    per_language[lang].append(label)
    country_labels, country_synonyms = _labels(taxonomy, "country", organization.country)
    places_words = [organization.country, *country_labels.values(), *country_synonyms]
    description = {k: v for k, v in (organization.description or {}).items() if v}
    for lang, text in description.items():
        if lang in per_language:
            per_language[lang].append(text)
    for service in services:
        for lang in LANGUAGES:
            per_language[lang] += [
                (service.name_i18n or {}).get(lang, ""),
                (service.description or {}).get(lang, ""),
            ]
    city = organization.city
    city_names = [city, *(places.aliases(city) if places else [])] if city else []
    lat, lon, precision = _position(organization, audience, places)
    names = [organization.name, *(organization.name_i18n or {}).values()]
    if organization.alternate_name:
        names.append(organization.alternate_name)
    concepts = document_concepts(
        codes={"org_type": [organization.org_type], **codes},
        names=names,
        texts=[t for lang in LANGUAGES for t in per_language[lang]],
    )
    return {
        "id": organization.id,
        "ref": organization.ref,
        "name": organization.name,
        "names": list(dict.fromkeys(n for n in names if n)),
        "name_i18n": dict(organization.name_i18n or {}),
        "country": organization.country,
        "city": city,
        "places": list(dict.fromkeys([*city_names, *places_words])),
        "org_type": organization.org_type,
        **{name: list(values) for name, values in codes.items()},
        "language": list(organization.language_codes),
        "is_24_7": bool(organization.is_24_7),
        "cross_border": bool(organization.accepts_cross_border_referrals),
        "description": description,
        "keywords": list(dict.fromkeys(keywords)),
        "concepts": concepts,
        "text": {lang: "\n".join(t for t in texts if t) for lang, texts in per_language.items()},
        "lat": lat,
        "lon": lon,
        "precision": precision,
        "visibility": organization.visibility,
        "is_published": bool(organization.is_published),
    }


def documents_for(
    organization: Organization,
    taxonomy: TaxonomyData | None = None,
    places: Gazetteer | None = None,
) -> list[SearchDocument]:
    """The organisation's documents, one per distinct view, each listing its ``audiences``."""
    taxonomy = taxonomy or load_taxonomy()
    audiences = [a for a in AUDIENCES if can_see_organization(viewer_for_audience(a), organization)]
    if not audiences:
        return []
    widest = viewer_for_audience(audiences[0])
    children = [s.visibility for s in organization.services]
    children += [loc.visibility for loc in organization.locations]
    # An address's visibility decides which point an audience gets (directory.points).
    children += [a.visibility for loc in organization.locations for a in loc.addresses]
    if all(can_see(widest, visibility) for visibility in children):
        # Every audience sees the same: one document (the usual case, and much faster).
        document = _document(organization, audiences[0], taxonomy, places)
        return [{"doc_id": f"{organization.id}_{audiences[0]}", **document, "audiences": audiences}]
    merged: dict[str, SearchDocument] = {}
    for audience in audiences:
        document = _document(organization, audience, taxonomy, places)
        key = json.dumps(document, sort_keys=True, default=str)
        if key in merged:
            merged[key]["audiences"].append(audience)
        else:
            merged[key] = {"doc_id": f"{organization.id}_{audience}", **document}
            merged[key]["audiences"] = [audience]
    return list(merged.values())


def load_organizations(session: Session, ids: Iterable[str]) -> dict[str, Organization]:
    """The organisations with these ids that still exist, with what documents need."""
    ids = list(ids)
    found: dict[str, Organization] = {}
    for start in range(0, len(ids), 500):
        statement = (
            select(Organization)
            .where(Organization.id.in_(ids[start : start + 500]))
            .options(*_LOAD)
        )
        found.update({o.id: o for o in session.scalars(statement)})
    return found


def all_documents(
    session: Session, places: Gazetteer | None = None, batch: int = 500
) -> Iterator[tuple[str, list[SearchDocument]]]:
    """Every organisation's documents, in id order, batch by batch (for a full rebuild)."""
    taxonomy = load_taxonomy()
    last = ""
    while True:
        statement = (
            select(Organization)
            .where(Organization.id > last)
            .order_by(Organization.id)
            .limit(batch)
            .options(*_LOAD)
        )
        organizations = list(session.scalars(statement))
        if not organizations:
            return
        for organization in organizations:
            yield organization.id, documents_for(organization, taxonomy, places)
        last = organizations[-1].id
        session.expunge_all()


def payload(document: SearchDocument) -> dict[str, Any]:
    """What a hit shows: the stored part of a document."""
    keys = ("id", "ref", "name", "name_i18n", "country", "city", "org_type", "is_24_7")
    return {
        **{k: document[k] for k in keys},
        "cross_border": document["cross_border"],
        "description": document["description"],
    }
