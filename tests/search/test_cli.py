"""liaison search "QUERY" and its subcommands."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from core.cli import cli


@pytest.fixture
def run(settings, demo):
    env = {
        "LIAISON_DATA_DIR": str(settings.data_dir),
        "LIAISON_DATABASE_URL": settings.database_url,
        "LIAISON_SECRET_KEY": settings.secret_key,
        "LIAISON_ENV": "test",
        "LIAISON_MAIL_SINK": "false",
    }

    def invoke(*args: str):
        return CliRunner(env=env).invoke(cli, list(args), catch_exceptions=False)

    return invoke


def test_query_prints_the_best_counterpart_first(run):
    result = run("search", "opvnag antwerpen")
    assert result.exit_code == 0, result.output
    assert "1 found" in result.output
    assert "Payoke (be-payoke)" in result.output


def test_json_prints_the_search_page_with_refs(run):
    result = run("search", "shelter", "--near", "Liège", "--json")
    page = json.loads(result.output)
    assert page["hits"][0]["ref"] == "be-surya"
    assert page["hits"][0]["distance_km"] < 5
    assert {"facets", "total", "took_ms"} <= set(page)


def test_options_before_the_query_and_country_filter(run):
    result = run("search", "--country", "LU", "police", "--json")
    assert [h["ref"] for h in json.loads(result.output)["hits"]] == ["lu-police-traite"]


def test_as_public_hides_network_entries_and_default_is_secretariat(run):
    assert "be-esperanto" in run("search", "esperanto").output
    assert "be-esperanto" not in run("search", "esperanto", "--as", "public").output
    assert "be-esperanto" in run("search", "esperanto", "--as", "member").output


def test_bad_option_is_a_usage_error(run):
    result = run("search", "shelter", "--near", "Atlantis")
    assert result.exit_code == 2
    assert "unknown town" in result.output


def test_reindex_shows_progress_and_setup_explains_embedded(run):
    result = run("search", "reindex")
    assert result.exit_code == 0, result.output
    assert "indexed 39 organisations" in result.output
    assert "nothing to set up" in run("search", "setup").output


def test_setup_against_an_unreachable_meilisearch_fails_clearly(run, monkeypatch):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("LIAISON_MEILI_URL", f"http://127.0.0.1:{port}")
    result = run("search", "setup")
    assert result.exit_code == 1
    assert "Meilisearch" in result.output
