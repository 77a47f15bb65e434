"""The structured referral form (``body.form`` of a message of kind ``referral``).

The form is defined once, as data, in ``liaison_client/data/referral-form-v1.json`` (the web's
``web/static/js/messaging/referral-form-v1.json`` is a link to it): the browser fetches that file
and this module reads it, and both apply the same rules (proved by
``tests/client/referral_form_cases.json``, run here and under Node). The relay never sees the
form; only its urgency travels beside the envelope, for the service levels.

A form::

    {"v": 1, "stage": "assistance", "needs": ["shelter", "medical"], "urgency": "high",
     "languages": ["ro", "en"], "consent_recorded": true, "consent_date": "2026-11-20",
     "notes": "…"}
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from liaison_client.errors import ReferralFormError

DEFINITION = Path(__file__).resolve().parent / "data" / "referral-form-v1.json"
LANGUAGES = ("en", "nl", "fr", "de")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# "Not in the future" means not after today anywhere on earth (UTC+14), so that a sender and a
# reader whose clocks run in different zones agree on whether a date is allowed.
_LATEST_OFFSET = timedelta(hours=14)


@dataclass(frozen=True)
class FormProblem:
    """One thing wrong with a referral form: the field, a code, and values for the message."""

    field: str
    code: str
    params: dict[str, Any] = dataclass_field(default_factory=dict)

    def message(self, language: str = "en") -> str:
        """The problem in words, in one of the interface languages."""
        texts = load_definition()["messages"][self.code]
        text = str(texts.get(language) or texts["en"])
        for name, value in self.params.items():
            text = text.replace("{" + name + "}", str(value))
        return text


@cache
def load_definition(path: Path = DEFINITION) -> dict[str, Any]:
    """The referral form definition (fields, options, limits, labels, messages)."""
    return dict(json.loads(path.read_text(encoding="utf-8")))


def today_bound(now: datetime | None = None) -> str:
    """The latest date a consent may carry: today where the day is furthest ahead."""
    moment = (now or datetime.now(UTC)).astimezone(UTC) + _LATEST_OFFSET
    return f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"


def _is_date(text: object) -> bool:
    if not isinstance(text, str) or not _DATE.fullmatch(text):
        return False
    year, month, day = int(text[:4]), int(text[5:7]), int(text[8:10])
    if year < 1 or not 1 <= month <= 12:
        return False
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    return 1 <= day <= days


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _list_problem(name: str, value: object, spec: dict[str, Any], allowed: list[Any],
                  code: str) -> FormProblem | None:  # fmt: skip
    if not isinstance(value, list):
        return FormProblem(name, "wrong-type")
    for item in value:
        if not isinstance(item, str) or item not in allowed:
            return FormProblem(name, code, {"value": item})
    if len(set(value)) != len(value):
        return FormProblem(name, "duplicate")
    if len(value) < spec.get("min", 0):
        return FormProblem(name, "too-few", {"min": spec["min"]})
    if "max" in spec and len(value) > spec["max"]:
        return FormProblem(name, "too-many", {"max": spec["max"]})
    return None


def _field_problem(  # noqa: PLR0911, PLR0912 - one return per rule reads best
    spec: dict[str, Any], form: dict[str, Any], today: str
) -> FormProblem | None:
    name, kind, value = spec["name"], spec["type"], form[spec["name"]]
    values = [option["value"] for option in spec.get("options", [])]
    if kind == "choice":
        if not isinstance(value, str) or value not in values:
            return FormProblem(name, "not-a-choice", {"value": value})
        return None
    if kind == "multi":
        return _list_problem(name, value, spec, values, "not-a-choice")
    if kind == "languages":
        return _list_problem(name, value, spec, spec["codes"], "not-a-language")
    if kind == "boolean":
        return None if isinstance(value, bool) else FormProblem(name, "wrong-type")
    if kind == "date":
        gate = form.get(spec["when"])
        if gate is True:
            if value is None:
                return FormProblem(name, "date-required")
            if not _is_date(value):
                return FormProblem(name, "not-a-date")
            if value > today:
                return FormProblem(name, "date-in-future")
        elif gate is False and value is not None:
            return FormProblem(name, "date-without-consent")
        return None
    if kind == "text":
        if not isinstance(value, str):
            return FormProblem(name, "wrong-type")
        if len(value) > spec["max_length"]:
            return FormProblem(name, "too-long", {"max": spec["max_length"]})
        return None
    raise ValueError(f"the form definition has a field of unknown type {kind!r}")


def referral_form_problems(form: object, *, today: str | None = None) -> list[FormProblem]:
    """Every problem of a referral form, in the definition's order (empty when it is valid)."""
    definition = load_definition()
    if not isinstance(form, dict):
        return [FormProblem("form", "not-object")]
    fields = definition["fields"]
    known = {"v", *(spec["name"] for spec in fields)}
    problems = [FormProblem(str(key), "unknown-field") for key in form if key not in known]
    if "v" not in form:
        problems.append(FormProblem("v", "missing"))
    elif not _is_number(form["v"]) or form["v"] != definition["version"]:
        problems.append(FormProblem("v", "version"))
    bound = today or today_bound()
    for spec in fields:
        if spec["name"] not in form:
            problems.append(FormProblem(spec["name"], "missing"))
            continue
        problem = _field_problem(spec, form, bound)
        if problem is not None:
            problems.append(problem)
    return problems


def check_referral_form(form: object, *, today: str | None = None) -> dict[str, Any]:
    """The form when it is valid; otherwise ``ReferralFormError`` naming the first bad field
    (``today``, ``YYYY-MM-DD``, is the latest allowed consent date; default: now)."""
    problems = referral_form_problems(form, today=today)
    if problems:
        raise ReferralFormError(problems)
    assert isinstance(form, dict)
    return form


def label(spec_name: str, value: object = None, language: str = "en") -> str:
    """The label of a field, or of one of its options, in ``language``."""
    spec = next(s for s in load_definition()["fields"] if s["name"] == spec_name)
    if value is None:
        return str(spec["label"].get(language) or spec["label"]["en"])
    option = next((o for o in spec.get("options", []) if o["value"] == value), None)
    if option is None:
        return str(value)
    return str(option["label"].get(language) or option["label"]["en"])


def describe(form: dict[str, Any], language: str = "en") -> list[tuple[str, str]]:
    """A checked form as (label, readable value) pairs, in the definition's order."""
    rows: list[tuple[str, str]] = []
    for spec in load_definition()["fields"]:
        name, value = spec["name"], form.get(spec["name"])
        if spec["type"] in ("choice", "boolean"):
            shown = label(name, value, language)
        elif spec["type"] == "multi":
            shown = ", ".join(label(name, item, language) for item in value or [])
        elif spec["type"] == "languages":
            shown = ", ".join(value or [])
        else:
            shown = "" if value is None else str(value)
        if name == "consent_date" and value is None:
            continue
        rows.append((label(name, None, language), shown))
    return rows


def example_form(today: str | None = None) -> dict[str, Any]:
    """A valid form to start from (``liaison-client referral template``)."""
    return {
        "v": load_definition()["version"], "stage": "assistance", "needs": ["shelter"],
        "urgency": "normal", "languages": ["en"], "consent_recorded": True,
        "consent_date": today or _utc_today(), "notes": "",
    }  # fmt: skip


def _utc_today() -> str:
    return datetime.now(UTC).date().isoformat()
