"""Each relevance promise of the issue, on the embedded engine, with organisations made for it."""

from __future__ import annotations

from .conftest import build_organization, refs


def test_one_typo_is_forgiven_from_five_letters(add_organizations, find):
    add_organizations(build_organization("kompas", "Kompas"))
    assert refs(find("kopmas", prefix=False)) == ["kompas"]


def test_no_typo_is_forgiven_under_five_letters(add_organizations, find):
    add_organizations(build_organization("roos", "Roos"))
    assert refs(find("roos", prefix=False)) == ["roos"]
    assert refs(find("rous", prefix=False)) == []


def test_two_typos_are_forgiven_from_nine_letters_only(add_organizations, find):
    add_organizations(
        build_organization("zonnebloem", "Zonnebloem"),
        build_organization("horizont", "Horizont"),
    )
    assert refs(find("zonebleom", prefix=False)) == ["zonnebloem"]
    assert refs(find("hrizomt", prefix=False)) == []  # 8 letters: one typo only


def test_last_word_is_a_prefix_for_search_as_you_type(add_organizations, find):
    add_organizations(build_organization("zonnebloem", "Zonnebloem", city="Gent"))
    assert refs(find("gent zonneb")) == ["zonnebloem"]
    assert refs(find("zonneb gent")) == []  # only the last word is a prefix


def test_accents_are_folded_both_ways(add_organizations, find):
    add_organizations(
        build_organization("surya", "Sürya asbl", city="Liège"),
        build_organization("ecole", "Ecole des Femmes", city="Namur"),
    )
    assert refs(find("surya liege")) == ["surya"]
    assert refs(find("école")) == ["ecole"]


def test_stemming_finds_other_forms_of_a_word(add_organizations, find):
    add_organizations(
        build_organization(
            "accomp",
            "Maison Atlas",
            description={"fr": "Accompagnement psychosocial des victimes."},
        )
    )
    # "accompagner" is five edits from "accompagnement": only the French stem joins them.
    assert refs(find("accompagner", prefix=False)) == ["accomp"]


def test_a_query_in_one_language_finds_an_entry_written_in_another(add_organizations, find):
    add_organizations(
        build_organization(
            "maison",
            "Maison Atlas",
            description={"fr": "Maison d'accueil à Namur."},
            service_types=["shelter"],
        ),
        build_organization(
            "inspect",
            "Bureau Zuid",
            description={"fr": "Nous sommes l'inspection du travail de la région."},
        ),
    )
    for text in ("opvang", "shelter", "Schutzunterkunft", "hébergement"):
        assert refs(find(text, prefix=False)) == ["maison"], text
    # No code attached: the taxonomy's synonyms expand the query into other languages.
    assert refs(find("arbeidsinspectie", prefix=False)) == ["inspect"]
    assert refs(find("Arbeitsinspektion", prefix=False)) == ["inspect"]


def test_a_synonym_of_several_words_matches_only_as_those_words_in_a_row(add_organizations, find):
    add_organizations(
        build_organization("row", "Bureau Noord", description={"en": "We give legal assistance."}),
        build_organization(
            "apart", "Bureau Oost", description={"en": "Legal advice, and assistance with forms."}
        ),
    )
    assert refs(find("rechtshulp", prefix=False)) == ["row"]


def test_names_outrank_descriptions(add_organizations, find):
    add_organizations(
        build_organization(
            "described", "Stichting Noord", description={"nl": "Samen met Horizon werken we."}
        ),
        build_organization("named", "Horizon", description={"nl": "Een organisatie."}),
    )
    assert refs(find("horizon", prefix=False)) == ["named", "described"]


def test_exact_match_outranks_a_typo(add_organizations, find):
    add_organizations(
        build_organization("kompan", "Kompan"),
        build_organization("kompas", "Kompas"),
    )
    assert refs(find("kompas", prefix=False)) == ["kompas", "kompan"]


def test_matches_are_highlighted_and_escaped(add_organizations, find):
    add_organizations(
        build_organization(
            "xss",
            "<script>alert(1)</script> Kompas",
            description={"en": "Shelter <img src=x onerror=alert(1)> for <b>victims</b>."},
            service_types=["shelter"],
        )
    )
    hit = find("kompas shelter").hits[0]
    assert hit.highlights["name"] == "&lt;script&gt;alert(1)&lt;/script&gt; <mark>Kompas</mark>"
    assert "<img" not in hit.highlights["description"]
    assert "<mark>Shelter</mark> &lt;img" in hit.highlights["description"]


def test_every_word_must_match_unless_nothing_would(add_organizations, find):
    add_organizations(
        build_organization("gent-kompas", "Kompas", city="Gent"),
        build_organization("brugge-kompas", "Kompas Brugge", city="Brugge"),
    )
    assert refs(find("kompas gent", prefix=False)) == ["gent-kompas"]
    # "zzzz" matches nothing: the last word is dropped rather than showing nothing.
    assert set(refs(find("kompas zzzz", prefix=False))) == {"gent-kompas", "brugge-kompas"}
