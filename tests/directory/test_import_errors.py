"""A file with any error imports nothing and names every problem by line and field."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from core.cli import cli
from directory.errors import InvalidImportFile
from directory.importing import import_directory, parse_file
from tests.directory.samples import (
    DEMO,
    counts,
    jsonl,
    line,
    own_session,
)


@pytest.fixture
def session(settings):
    """A session outside the app (see ``own_session``)."""
    yield from own_session(settings)


def problems_of(content: bytes) -> list[str]:
    return [str(problem) for problem in parse_file(content).problems]


def test_one_bad_line_in_the_demo_directory_imports_nothing_and_names_line_and_field(session):
    lines = DEMO.read_text(encoding="utf-8").splitlines()
    broken = json.loads(lines[16])
    broken["exploitation_forms"] = ["sexual", "witchcraft"]
    lines[16] = json.dumps(broken, ensure_ascii=False)
    content = ("\n".join(lines) + "\n").encode()

    with pytest.raises(InvalidImportFile) as raised:
        import_directory(session, content)
    session.rollback()

    assert [str(p) for p in raised.value.problems] == [
        "line 17, field exploitation_forms: unknown exploitation form code 'witchcraft'"
    ]
    assert counts(session) == {"organizations": 0, "audit": 0, "outbox": 0}


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"ref": None}, "ref", "is required"),
        ({"ref": "x" * 101}, "ref", "longer than 100"),
        ({"name": ""}, "name", "is required"),
        ({"name": "n" * 301}, "name", "longer than 300"),
        ({"description": {}}, "description", "at least one"),
        ({"description": None}, "description", "is required"),
        ({"description": {"es": "Hola"}}, "description", "'es'"),
        ({"description": "plain text"}, "description", "must be an object"),
        ({"country": "Belgium"}, "country", "ISO 3166-1"),
        ({"country": "XX"}, "country", "not an ISO 3166-1"),
        ({"region": "NL-NH"}, "region", "subdivision of BE"),
        ({"region": "Flanders"}, "region", "ISO 3166-2"),
        ({"lat": None}, "lat", "go together"),
        ({"lon": 200}, "lon", "between -180 and 180"),
        ({"lat": "51.0"}, "lat", "number of degrees"),
        ({"org_type": "bakery"}, "org_type", "unknown org type code"),
        ({"org_type": None}, "org_type", "is required"),
        ({"languages": ["nl", "klingon"]}, "languages", "unknown language code"),
        ({"languages": "nl"}, "languages", "list of codes"),
        ({"target_groups": ["minors", "minors"]}, "target_groups", "listed twice"),
        ({"service_types": ["shelter", "pizza"]}, "service_types", "'pizza'"),
        ({"is_24_7": "yes"}, "is_24_7", "true or false"),
        ({"visibility": "everyone"}, "visibility", "public, network, secretariat"),
        ({"address": {"visibility": "hidden"}}, "address.visibility", "not_stored"),
        ({"address": "Main street 1"}, "address", "object or null"),
        ({"website": "ftp://example.org"}, "website", "http(s) URL"),
        ({"website": "https://"}, "website", "http(s) URL"),
        ({"email": "intake.example.org"}, "email", "not an e-mail address"),
        ({"phone": "+32 12"}, "phone", "not a possible telephone number"),
        ({"emergency_phone": "call us"}, "emergency_phone", "not a telephone number"),
        ({"contact_points": {"role": "x"}}, "contact_points", "list of objects"),
        ({"contact_points": ["Intake"]}, "contact_points[0]", "must be an object"),
        ({"contact_points": [{"languages": ["nl"]}]}, "contact_points[0]", "at least a role"),
        ({"contact_points": [{"role": "x", "email": "nope"}]}, "contact_points[0].email", "e-mail"),
        (
            {"contact_points": [{"role": "x", "visibility": "all"}]},
            "contact_points[0].visibility",
            "one of",
        ),
    ],
)
def test_a_bad_value_is_reported_with_line_and_field(overrides, field, message):
    problems = problems_of(jsonl(line(ref="t-ok"), line(**overrides)))

    assert len(problems) == 1, problems
    assert problems[0].startswith(f"line 2, field {field}: ")
    assert message in problems[0]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "line 1: the file is empty"),
        (jsonl(line()) + b"\xff\xfe{}\n", "line 2: is not UTF-8"),
        (jsonl(line()) + b"{not json}\n", "line 2: is not valid JSON"),
        (jsonl(line()) + b"\n" + jsonl(line(ref="t-2")), "line 2: is blank"),
        (jsonl(line()) + b"[1, 2]\n", "line 2: must be a JSON object"),
        (b'{"ref": "a", "ref": "b"}\n', "line 1, field ref: appears twice"),
        (b'{"lat": NaN}\n', "line 1: is not valid JSON"),
        (jsonl(line(), line()), "line 2, field ref: 't-sample' is already on line 1"),
    ],
)
def test_a_broken_line_is_reported_with_its_number(content, expected):
    assert any(problem.startswith(expected) for problem in problems_of(content)), problems_of(
        content
    )


def test_every_error_of_the_file_is_reported_not_just_the_first():
    content = jsonl(
        line(ref="t-1", email="bad"), line(ref="t-2"), line(ref="t-3", phone="1", lat=95)
    )
    problems = problems_of(content)

    assert [p.split(":")[0] for p in problems] == [
        "line 1, field email",
        "line 3, field lat",
        "line 3, field phone",
    ]


def test_a_byte_order_mark_and_a_final_newline_are_accepted():
    assert problems_of(b"\xef\xbb\xbf" + jsonl(line())) == []


def write(tmp_path, content: bytes):
    path = tmp_path / "import.jsonl"
    path.write_bytes(content)
    return str(path)


def run(settings, *args: str):
    env = {
        "LIAISON_DATABASE_URL": settings.database_url,
        "LIAISON_DATA_DIR": str(settings.data_dir),
    }
    return CliRunner().invoke(cli, ["directory", *args], env=env, catch_exceptions=False)


def test_cli_reports_errors_on_stderr_and_exits_1(settings, session, tmp_path):
    result = run(settings, "import", write(tmp_path, jsonl(line(), line(ref="t-2", country="B"))))

    assert result.exit_code == 1
    assert "import.jsonl: line 2, field country:" in result.stderr
    assert "nothing was imported" in result.stderr
    assert counts(session)["organizations"] == 0


def test_cli_dry_run_writes_nothing(settings, session, tmp_path):
    result = run(settings, "import", "--dry-run", str(DEMO))

    assert result.exit_code == 0, result.output
    assert "dry run, nothing written: would be 39 created, 0 updated, 0 unchanged" in result.stdout
    assert counts(session) == {"organizations": 0, "audit": 0, "outbox": 0}


def test_cli_imports_reports_counts_and_ignored_fields(settings, session, tmp_path):
    content = jsonl(line(ref="t-1", notes="x"), line(ref="t-2"))
    first = run(settings, "import", write(tmp_path, content))
    second = run(settings, "import", write(tmp_path, content))

    assert first.stdout.splitlines() == [
        "2 created, 0 updated, 0 unchanged",
        "ignored fields: notes",
    ]
    assert second.stdout.splitlines()[0] == "0 created, 0 updated, 2 unchanged"
    assert counts(session)["organizations"] == 2


def test_cli_if_empty_imports_only_into_an_empty_directory(settings, session, tmp_path):
    first = run(settings, "import", "--if-empty", write(tmp_path, jsonl(line(ref="t-1"))))
    second = run(settings, "import", "--if-empty", str(DEMO))

    assert first.stdout.startswith("1 created")
    assert "already has organisations; nothing imported" in second.stdout
    assert counts(session)["organizations"] == 1
