"""The embedded index's fields, and how a search document fills them.

Besides the text fields searched by words, each document holds its facet codes (as terms, and as
bit masks counted in Python), its map cells per audience (``search.grid``) and the taxonomy
forms written in its texts (found here once, so queries need no phrase queries for them), and the
domain concepts it is about, by tier (``search.domain``).
"""

from __future__ import annotations

import json
from functools import cache, lru_cache

import tantivy

from directory.taxonomy import load_taxonomy
from search.analysis import LANGUAGES, folding_analyzer, form_term, forms_in
from search.analysis import stemming_analyzer as stemmer
from search.backend import SearchDocument
from search.documents import payload
from search.domain import concept_term
from search.grid import cells_of
from search.nearby import cell_term
from search.query import FACET_FIELDS

TEXT_FIELDS = ("names", "places", "keywords", "body", "head")
FOLD = "liaison_fold"


def schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("doc_id", stored=True, tokenizer_name="raw")
    builder.add_text_field("id", tokenizer_name="raw")
    builder.add_text_field("audience", tokenizer_name="raw")
    for name in TEXT_FIELDS:
        builder.add_text_field(name, tokenizer_name=FOLD)
    for lang in LANGUAGES:
        builder.add_text_field(f"text_{lang}", tokenizer_name=f"liaison_stem_{lang}")
    for name in (*FACET_FIELDS, "is_24_7", "cross_border"):
        builder.add_text_field(name, fast=True, tokenizer_name="raw")
    builder.add_text_field("name_sort", fast=True, tokenizer_name="raw")
    builder.add_float_field("lat", indexed=True, fast=True)
    builder.add_float_field("lon", indexed=True, fast=True)
    builder.add_text_field("has_geo", tokenizer_name="raw")
    # "exact" or "town" (directory.points): each audience's document holds the point that
    # audience may see. New in the index format that stopped holding exact confidential points,
    # so an index written before it no longer matches the schema and is rebuilt.
    builder.add_text_field("point_precision", tokenizer_name="raw")
    builder.add_text_field("geo_cell", tokenizer_name="raw")
    builder.add_text_field("forms", tokenizer_name="raw")
    # The domain's concepts the organisation is about, as "<tier>:<concept>" (search.domain).
    builder.add_text_field("concepts", tokenizer_name="raw")
    for name in (*FACET_FIELDS, "flags"):
        builder.add_unsigned_field(f"fx_{name}", fast=True)
    builder.add_bytes_field("payload", stored=True)
    return builder.build()


@cache
def facet_codes() -> dict[str, dict[str, int]]:
    """Bit positions of each facet's codes (taxonomy order; at most 64 per facet)."""
    taxonomy = load_taxonomy()
    return {
        name: {t.code: i for i, t in enumerate(taxonomy.vocabulary(name)[:64])}
        for name in FACET_FIELDS
    }


def register(index: tantivy.Index) -> None:
    index.register_tokenizer(FOLD, folding_analyzer())
    for lang in LANGUAGES:
        index.register_tokenizer(f"liaison_stem_{lang}", stemmer(lang))


@lru_cache(maxsize=8192)
def _label_forms(label: str) -> frozenset[tuple[str, ...]]:
    """The forms written in a keyword (keywords are taxonomy labels: the same few thousand)."""
    return frozenset(forms_in(folding_analyzer().analyze(label)))


def _add_text(doc: tantivy.Document, document: SearchDocument) -> None:
    """Names, places, keywords and descriptions, and the taxonomy forms written in them."""
    analyzer = folding_analyzer()
    forms: set[tuple[str, ...]] = set()
    for field in ("names", "places", "keywords"):
        for value in document[field]:
            doc.add_text(field, value)
            doc.add_text("head", value)
            if field == "keywords":
                forms |= _label_forms(value)
    for lang, text in document["text"].items():
        if text:
            doc.add_text("body", text)
            doc.add_text(f"text_{lang}", text)
            forms |= forms_in(analyzer.analyze(text))
    for form in sorted(forms):
        doc.add_text("forms", form_term(form))
    for tier, ids in document.get("concepts", {}).items():
        for concept_id in ids:
            doc.add_text("concepts", concept_term(tier, concept_id))


def _add_place(doc: tantivy.Document, document: SearchDocument, lat: float, lon: float) -> None:
    """The position, and its map cells for each audience that may find the document."""
    doc.add_float("lat", lat)
    doc.add_float("lon", lon)
    doc.add_text("has_geo", "yes")
    doc.add_text("point_precision", str(document.get("precision") or "exact"))
    for name in cells_of(lat, lon):
        for audience in document["audiences"]:
            doc.add_text("geo_cell", cell_term(audience, name))


def to_tantivy(document: SearchDocument) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_text("doc_id", document["doc_id"])
    doc.add_text("id", document["id"])
    for audience in document["audiences"]:
        doc.add_text("audience", audience)
    _add_text(doc, document)
    doc.add_text("country", document["country"])
    doc.add_text("org_type", document["org_type"])
    for name in ("exploitation_form", "target_group", "service_type", "language"):
        for value in document[name]:
            doc.add_text(name, value)
    doc.add_text("is_24_7", "true" if document["is_24_7"] else "false")
    doc.add_text("cross_border", "true" if document["cross_border"] else "false")
    codes = facet_codes()
    for name in FACET_FIELDS:
        values = document[name] if isinstance(document[name], list) else [document[name]]
        mask = sum(1 << codes[name][v] for v in set(values) if v in codes[name])
        doc.add_unsigned(f"fx_{name}", mask)
    doc.add_unsigned("fx_flags", int(document["is_24_7"]) | int(document["cross_border"]) << 1)
    doc.add_text("name_sort", " ".join(folding_analyzer().analyze(document["name"])))
    if document.get("lat") is not None and document.get("lon") is not None:
        _add_place(doc, document, float(document["lat"]), float(document["lon"]))
    stored = {**payload(document), "lat": document.get("lat"), "lon": document.get("lon")}
    doc.add_bytes("payload", json.dumps(stored, ensure_ascii=False).encode())
    return doc
