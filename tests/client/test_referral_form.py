"""The referral form's rules: one table of valid and invalid forms, checked by the Python client
and by the browser module under Node, which must agree on every case."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from liaison_client.errors import ReferralFormError
from liaison_client.referral import (
    DEFINITION,
    check_referral_form,
    describe,
    load_definition,
    referral_form_problems,
    today_bound,
)

HERE = Path(__file__).parent
TABLE = json.loads((HERE / "referral_form_cases.json").read_text(encoding="utf-8"))
CASES = TABLE["cases"]


def form_of(case: dict[str, Any]) -> Any:
    """A case's form, built exactly as tests/client/referral_form.mjs builds it."""
    if "form" in case:
        return case["form"]
    form = {**TABLE["base"], **case.get("set", {})}
    for name in case.get("drop", []):
        del form[name]
    for name, long in case.get("long", {}).items():
        form[name] = long["repeat"] * long["times"]
    if "raw_v" in case:
        form["v"] = json.loads(case["raw_v"])
    return form


@pytest.fixture(scope="module")
def node_results() -> dict[str, Any]:
    executable = shutil.which("node")
    assert executable, "node is required to check the browser's referral form rules"
    done = subprocess.run(
        [executable, str(HERE / "referral_form.mjs")], capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_python_and_the_browser_agree_on_every_referral_form(case, node_results) -> None:
    expected = [list(p) for p in case["problems"]]
    problems = referral_form_problems(form_of(case), today=TABLE["today"])
    python = [[p.field, p.code] for p in problems]

    assert python == expected
    assert node_results["results"][case["name"]] == expected


def test_the_table_covers_every_rule_of_the_definition() -> None:
    codes = {code for case in CASES for _field, code in case["problems"]}
    fields = {field for case in CASES for field, _code in case["problems"]}

    assert codes == set(load_definition()["messages"])
    assert {spec["name"] for spec in load_definition()["fields"]} | {"v", "form"} <= fields
    assert len({c["name"] for c in CASES}) == len(CASES)


def test_both_sides_take_the_same_latest_day_for_a_consent(node_results) -> None:
    for bound, from_node in zip(TABLE["bounds"], node_results["bounds"], strict=True):
        now = datetime.fromisoformat(bound["now"].replace("Z", "+00:00"))
        assert today_bound(now) == bound["today"] == from_node


def test_an_invalid_form_raises_the_named_error_naming_the_field() -> None:
    form = {**TABLE["base"], "consent_date": None}

    with pytest.raises(ReferralFormError) as raised:
        check_referral_form(form, today=TABLE["today"])

    assert raised.value.field == "consent_date"
    assert raised.value.reason == "bad-referral-form"
    assert str(raised.value).endswith("consent_date: Give the date consent was recorded.")


def test_a_valid_form_comes_back_unchanged_and_reads_in_every_language() -> None:
    form = TABLE["base"]

    assert check_referral_form(form, today=TABLE["today"]) is form
    assert ("Behoeften", "Opvang, Medische zorg") in describe(form, "nl")
    assert ("Urgence", "Élevée") in describe(form, "fr")
    assert ("Einwilligung dokumentiert", "Ja") in describe(form, "de")
    for spec in load_definition()["fields"]:
        assert set(spec["label"]) == {"en", "nl", "fr", "de"}
        for option in spec.get("options", []):
            assert set(option["label"]) == {"en", "nl", "fr", "de"}
    for texts in load_definition()["messages"].values():
        assert set(texts) == {"en", "nl", "fr", "de"}


def test_the_definition_ships_inside_the_client_package_and_the_web_links_to_it() -> None:
    pyproject = (HERE.parents[1] / "client" / "pyproject.toml").read_text(encoding="utf-8")
    served = HERE.parents[1] / "web" / "static" / "js" / "messaging" / "referral-form-v1.json"

    assert DEFINITION.is_file()
    assert DEFINITION.parts[-3:-1] == ("liaison_client", "data")
    assert '"data/*.json"' in pyproject
    assert served.is_symlink()
    assert served.resolve() == DEFINITION.resolve()
