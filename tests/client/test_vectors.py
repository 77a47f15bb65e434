"""The shared envelope-v1 vectors: every valid one opens to its body, every invalid one is
rejected for the reason the file states; one test per vector so a failure names it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from liaison_client.cli import main
from liaison_client.selftest import cases

from tests.client.conftest import VECTORS, load_vectors

CASES = {case.name: case for case in cases(load_vectors(), strict=True)}


@pytest.mark.parametrize("name", list(CASES))
def test_vector(name: str) -> None:
    CASES[name].run()


def test_vector_file_covers_every_section() -> None:
    prefixes = {name.split(":")[0].split(" ")[0] for name in CASES}
    assert {
        "user",
        "valid",
        "invalid",
        "blob",
        "backup",
        "fingerprint",
        "safety",
        "key",
    } <= prefixes
    assert sum(name.startswith("invalid:") for name in CASES) == len(load_vectors()["invalid"])


def test_selftest_command_passes_the_shared_vectors() -> None:
    result = CliRunner().invoke(main, ["selftest", str(VECTORS)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == f"{len(CASES)} passed, 0 failed"


def test_selftest_command_fails_a_doctored_vector_file(tmp_path) -> None:
    vectors = load_vectors()
    vectors["valid"][0]["body"]["subject"] = "Iets anders"
    vectors["fingerprints"][0]["fingerprint"] = "00000 00000 00000 00000 00000 00000"
    dropped = len(vectors["backups"]["invalid"])
    vectors["backups"]["invalid"] = []  # each costs an Argon2id run; not what this test is about
    doctored = tmp_path / "doctored.json"
    doctored.write_text(json.dumps(vectors))
    result = CliRunner().invoke(main, ["selftest", "-q", str(doctored)])
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == f"{len(CASES) - dropped - 2} passed, 2 failed"
    assert "FAIL valid: one recipient" in result.output


def test_selftest_command_refuses_a_file_of_another_shape(tmp_path) -> None:
    other = tmp_path / "other.json"
    other.write_text('{"users": {}}')
    result = CliRunner().invoke(main, ["selftest", str(other)])
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == "0 passed, 1 failed"
