"""Search across the border (issue 12): the domain's words bridge NL/FR/DE/EN, a query naming two
things needs both, and specialists come before organisations that mention a topic in passing.

Run on the demo directory, whose Luxembourg entries are written in French only.
"""

from __future__ import annotations

import json

import pytest

from search.analysis import plan_query, words
from search.domain import VOCABULARY_FILE, concept_spans, concepts, document_concepts

from .conftest import build_organization, demo_records, refs

RECORDS = {r["ref"]: r for r in demo_records()}
LABOUR_SPECIALISTS = {
    "be-rsz-ecosoc",
    "be-tsw-cls",
    "nl-nla",
    "lu-itm",
    "be-fairwork-belgium",
    "nl-fairwork",
}
GENERAL_VICTIM_CENTRES = {
    ref
    for ref, r in RECORDS.items()
    if r["org_type"] in ("specialised_victim_centre", "victim_support_general")
}


def countries(page) -> list[str]:
    return [hit.country for hit in page.hits]


# -- the vocabulary -------------------------------------------------------------------------


def test_every_concept_is_written_in_the_four_languages():
    data = json.loads(VOCABULARY_FILE.read_text(encoding="utf-8"))
    for concept_id, entry in data["concepts"].items():
        for lang in ("nl", "fr", "de", "en"):
            assert entry.get(lang), f"{concept_id} has no {lang} words"


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("mensenhandel", "trafficking"),
        ("traite des êtres humains", "trafficking"),
        ("Menschenhandel", "trafficking"),
        ("human trafficking", "trafficking"),
        ("arbeidsuitbuiting", "labour_exploitation"),
        ("exploitation par le travail", "labour_exploitation"),
        ("Arbeitsausbeutung", "labour_exploitation"),
        ("labour exploitation", "labour_exploitation"),
        ("seksuele uitbuiting", "sexual_exploitation"),
        ("exploitation sexuelle", "sexual_exploitation"),
        ("criminele uitbuiting", "criminal_exploitation"),
        ("gedwongen bedelarij", "forced_begging"),
        ("mendicité forcée", "forced_begging"),
        ("Zwangsbettelei", "forced_begging"),
        ("slachtoffers", "victim"),
        ("victimes", "victim"),
        ("Opfer", "victim"),
        ("opvang", "shelter"),
        ("hébergement", "shelter"),
        ("Schutzunterkunft", "shelter"),
        ("voogdij", "guardianship"),
        ("tutelle", "guardianship"),
        ("Vormundschaft", "guardianship"),
        ("inspectie", "inspection"),
        ("Aufsicht", "inspection"),
        ("parket", "prosecutor"),
        ("ministère public", "prosecutor"),
        ("Staatsanwaltschaft", "prosecutor"),
        ("politie", "police"),
        ("marechaussee", "police"),
        ("Polizei", "police"),
    ],
)
def test_a_query_word_names_its_concept_in_any_language(text, concept):
    spans = concept_spans(words(text))
    assert [s.concepts for s in spans] == [(concept,)], text
    assert (spans[0].start, spans[0].end) == (0, len(words(text)))


def test_the_longest_phrase_wins_and_each_word_keeps_its_place():
    plan = plan_query("traite des êtres humains au Luxembourg")
    assert [(c.start, c.end, c.concepts) for c in plan.concepts] == [(0, 4, ("trafficking",))]
    plan = plan_query("mensenhandel politie")
    assert [(c.start, c.concepts) for c in plan.concepts] == [
        (0, ("trafficking",)),
        (1, ("police",)),
    ]


def test_an_organisation_is_about_a_concept_by_type_services_forms_or_text():
    tiers = document_concepts(
        codes={"org_type": ["labour_inspection"], "exploitation_form": ["sexual"]},
        names=["Bureau Zuid"],
        texts=["Nous aidons les victimes."],
    )
    assert "labour_exploitation" in tiers["core"]
    assert "inspection" in tiers["core"]
    assert "sexual_exploitation" in tiers["tagged"]
    assert "trafficking" in tiers["tagged"]
    assert tiers["text"] == ["victim"]
    # Each concept in its best tier only: a police service named after trafficking is a
    # trafficking specialist, not also tagged with it.
    tiers = document_concepts(
        codes={"org_type": ["police"], "exploitation_form": ["labour"]},
        names=["Centrale dienst mensenhandel"],
        texts=["mensenhandel"],
    )
    assert "trafficking" in tiers["core"]
    assert "trafficking" not in tiers["tagged"]
    assert "trafficking" not in tiers["text"]


def test_the_vocabulary_codes_exist_in_the_taxonomy():
    from directory.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    for concept in concepts().values():
        for vocabulary, codes in concept.codes.items():
            for code in codes:
                assert taxonomy.get(vocabulary, code) is not None, (concept.id, vocabulary, code)


# -- the demo directory ---------------------------------------------------------------------


def test_trafficking_in_luxembourg_finds_the_luxembourg_entries_written_in_french(demo, find):
    page = find("mensenhandel luxemburg", per_page=40)
    assert page.total >= 5
    assert set(countries(page)) == {"LU"}, refs(page)
    assert {"lu-police-traite", "lu-savteh", "lu-parquet-lux"} <= set(refs(page))
    for text in ("Menschenhandel Luxemburg", "human trafficking luxembourg"):
        assert set(countries(find(text, per_page=40))) == {"LU"}, text


def test_trafficking_and_police_finds_the_police_of_every_country(demo, find):
    page = find("mensenhandel politie", per_page=40)
    found = refs(page)
    for ref in ("lu-police-traite", "nl-kmar", "nl-politie-avim", "be-fedpol-thb"):
        assert ref in found, found
    police = [ref for ref in found if RECORDS[ref]["org_type"] in ("police", "border_police")]
    assert found[: len(police)] == police, "police services come before the rest"
    # The same in the other languages.
    for text in ("traite police", "Menschenhandel Polizei", "trafficking police"):
        assert {"lu-police-traite", "nl-kmar"} <= set(refs(find(text, per_page=40))), text


def test_the_marechaussee_still_finds_itself_first(demo, find):
    assert refs(find("marechaussee"))[0] == "nl-kmar"


def test_labour_exploitation_puts_inspectorates_and_fairwork_before_victim_centres(demo, find):
    for text in ("arbeidsuitbuiting", "exploitation par le travail", "labour exploitation"):
        found = refs(find(text, per_page=40))
        specialists = [found.index(ref) for ref in LABOUR_SPECIALISTS]
        general = [found.index(ref) for ref in GENERAL_VICTIM_CENTRES if ref in found]
        assert general, text
        assert max(specialists) < min(general), (text, found[:10])
        assert set(found[: len(LABOUR_SPECIALISTS)]) == LABOUR_SPECIALISTS, (text, found[:8])


def test_a_specialist_outranks_an_organisation_mentioning_the_topic_in_passing(
    add_organizations, find
):
    add_organizations(
        build_organization(
            "passing",
            "Stichting Noord",
            description={"nl": "Wij helpen ook bij voogdij en andere vragen."},
        ),
        build_organization(
            "tuteurs",
            "Service des Tutelles",
            org_type="guardianship_service",
            description={"fr": "Désigne un tuteur pour chaque mineur."},
        ),
        build_organization(
            "service",
            "Bureau Oost",
            services=[("guardianship", "public")],
            description={"de": "Beratung."},
        ),
    )
    found = refs(find("voogdij", prefix=False))
    assert set(found[:2]) == {"tuteurs", "service"}, found
    assert found[2:] == ["passing"]


def test_a_query_naming_two_things_needs_both(demo, find):
    # A service and a target group: every hit offers guardianship to minors.
    page = find("voogdij minderjarigen", per_page=40)
    assert set(refs(page)) == {"be-dienst-voogdij", "nl-nidos"}
    # A topic and a place.
    page = find("opvang luxembourg", per_page=40)
    assert refs(page)
    assert set(countries(page)) == {"LU"}
    assert refs(page)[0] == "lu-caritas"  # the one offering shelter, before those mentioning it
    # A service named in one language, a country in another.
    page = find("inspectie Luxemburg", per_page=40)
    assert refs(page)[0] == "lu-itm"


def test_two_concepts_rank_organisations_matching_both_first(add_organizations, find):
    add_organizations(
        build_organization(
            "both",
            "Maison Sud",
            country="LU",
            city="Luxembourg",
            description={"fr": "Hébergement des victimes de la traite."},
            service_types=["shelter"],
        ),
        build_organization(
            "topic-only",
            "Huis West",
            country="NL",
            city="Utrecht",
            description={"nl": "Opvang voor slachtoffers van mensenhandel."},
            service_types=["shelter"],
        ),
        build_organization(
            "place-only", "Bureau Centre", country="LU", city="Luxembourg", org_type="municipality"
        ),
    )
    assert refs(find("opvang luxemburg", prefix=False)) == ["both"]
    # Words are dropped from the end only when nothing matches them all.
    found = refs(find("opvang mensenhandel xylofoonfabriek", prefix=False))
    assert found
    assert set(found) <= {"both", "topic-only"}


def test_typos_are_still_forgiven(demo, find):
    assert refs(find("opvnag antwerpen"))[0] == "be-payoke"
    assert refs(find("inspection travail luxembourg"))[0] == "lu-itm"
    # "mensenhandl": one typo from the concept's word, so Luxembourg's French entries still match.
    page = find("mensenhandl luxemburg", per_page=40)
    assert page.total
    assert set(countries(page)) == {"LU"}


def test_the_words_of_a_concept_are_highlighted_in_the_other_language(demo, find):
    page = find("mensenhandel luxemburg", locale="fr", per_page=40)
    police = next(hit for hit in page.hits if hit.ref == "lu-police-traite")
    assert "<mark>traite</mark>" in " ".join(police.highlights.values())
