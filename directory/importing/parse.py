"""Reading and checking an import file (``../shared/specs/import-format.md``) into records.

A record is a plain dict in the import format with every default filled in and every value in
its stored form (E.164 phones, normalised e-mail, trimmed text), so two records compare equal
exactly when importing one over the other would change nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from directory.errors import ImportProblem
from directory.importing.fields import ADDRESS_VISIBILITIES, VISIBILITIES, LineChecker
from directory.taxonomy import TaxonomyData, load_taxonomy

ORGANISATION_FIELDS = (
    "ref",
    "name",
    "alternate_name",
    "description",
    "country",
    "region",
    "city",
    "lat",
    "lon",
    "org_type",
    "languages",
    "exploitation_forms",
    "target_groups",
    "service_types",
    "is_24_7",
    "accepts_cross_border_referrals",
    "visibility",
    "address",
    "website",
    "email",
    "phone",
    "emergency_phone",
    "contact_points",
)
ADDRESS_FIELDS = ("street", "postal_code", "city", "visibility")
# ``visibility`` of a contact point is Liaison's addition; it defaults to the organisation's.
CONTACT_POINT_FIELDS = ("role", "email", "phone", "languages", "visibility")


@dataclass
class ParsedFile:
    """The records of a file (line number, record), its problems and the fields it ignored."""

    records: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    ignored_fields: set[str] = field(default_factory=set)


class _DuplicateKeyError(ValueError):
    pass


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(key)
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def parse_file(content: bytes, taxonomy: TaxonomyData | None = None) -> ParsedFile:
    """Check every line of an import file; problems are collected, never raised."""
    taxonomy = taxonomy or load_taxonomy()
    parsed = ParsedFile()
    seen_refs: dict[str, int] = {}
    lines = content.split(b"\n")
    if lines and lines[-1].strip() == b"":
        lines.pop()  # the newline that ends the last line
    if lines and lines[0].startswith(b"\xef\xbb\xbf"):
        lines[0] = lines[0][3:]  # a byte-order mark some spreadsheet tools write
    if not lines:
        parsed.problems.append(ImportProblem(1, None, "the file is empty"))
    for number, raw in enumerate(lines, start=1):
        value = _decode_line(number, raw, parsed.problems)
        if value is None:
            continue
        checker = LineChecker(number, taxonomy)
        record = check_organisation(checker, value, parsed.ignored_fields)
        parsed.problems.extend(checker.problems)
        ref = record.get("ref")
        if ref and ref in seen_refs:
            parsed.problems.append(
                ImportProblem(number, "ref", f"{ref!r} is already on line {seen_refs[ref]}")
            )
        elif ref:
            seen_refs[ref] = number
        if not checker.problems:
            parsed.records.append((number, record))
    return parsed


def _decode_line(number: int, raw: bytes, problems: list[ImportProblem]) -> dict[str, Any] | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        problems.append(ImportProblem(number, None, f"is not UTF-8 (byte {error.start + 1})"))
        return None
    if not text.strip():
        problems.append(ImportProblem(number, None, "is blank; each line must hold one object"))
        return None
    try:
        value = json.loads(
            text, object_pairs_hook=_object_without_duplicates, parse_constant=_reject_constant
        )
    except _DuplicateKeyError as error:
        problems.append(ImportProblem(number, str(error), "appears twice in the object"))
        return None
    except ValueError as error:
        problems.append(ImportProblem(number, None, f"is not valid JSON ({error})"))
        return None
    if not isinstance(value, dict):
        problems.append(ImportProblem(number, None, "must be a JSON object ({...})"))
        return None
    return value


def check_organisation(
    checker: LineChecker, value: dict[str, Any], ignored: set[str]
) -> dict[str, Any]:
    """One organisation line in stored form; problems go to ``checker``."""
    ignored.update(key for key in value if key not in ORGANISATION_FIELDS)
    check = checker
    country = check.country("country", value.get("country"))
    visibility = check.choice("visibility", value.get("visibility"), VISIBILITIES, "network")
    record: dict[str, Any] = {
        "ref": check.text("ref", value.get("ref"), max_length=100, required=True),
        "name": check.text("name", value.get("name"), max_length=300, required=True),
        "alternate_name": check.text("alternate_name", value.get("alternate_name"), max_length=300),
        "description": check.translations(
            "description", value.get("description"), max_length=10_000
        ),
        "country": country,
        "region": check.region("region", value.get("region"), country),
        "city": check.text("city", value.get("city"), max_length=120),
        "lat": check.coordinate("lat", value.get("lat"), 90),
        "lon": check.coordinate("lon", value.get("lon"), 180),
        "org_type": check.code("org_type", "org_type", value.get("org_type"), required=True),
        "languages": check.codes("languages", "language", value.get("languages")),
        "exploitation_forms": check.codes(
            "exploitation_forms", "exploitation_form", value.get("exploitation_forms")
        ),
        "target_groups": check.codes("target_groups", "target_group", value.get("target_groups")),
        "service_types": check.codes("service_types", "service_type", value.get("service_types")),
        "is_24_7": check.boolean("is_24_7", value.get("is_24_7")),
        "accepts_cross_border_referrals": check.boolean(
            "accepts_cross_border_referrals", value.get("accepts_cross_border_referrals")
        ),
        "visibility": visibility,
        "address": _check_address(check, value.get("address"), ignored),
        "website": check.url("website", value.get("website")),
        "email": check.email("email", value.get("email")),
        "phone": check.phone("phone", value.get("phone"), country),
        "emergency_phone": check.phone("emergency_phone", value.get("emergency_phone"), country),
        "contact_points": _check_contact_points(
            check, value.get("contact_points"), visibility, country, ignored
        ),
    }
    if (record["lat"] is None) != (record["lon"] is None) and not (
        check.problems_for("lat") or check.problems_for("lon")
    ):
        check.problem("lat" if record["lat"] is None else "lon", "lat and lon go together")
    return record


def _check_address(check: LineChecker, value: Any, ignored: set[str]) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        check.problem("address", "must be an object or null")
        return None
    ignored.update(f"address.{key}" for key in value if key not in ADDRESS_FIELDS)
    visibility = check.choice(
        "address.visibility", value.get("visibility"), ADDRESS_VISIBILITIES, "network"
    )
    street = check.text("address.street", value.get("street"), max_length=300)
    return {
        "street": None if visibility == "not_stored" else street,
        "postal_code": check.text("address.postal_code", value.get("postal_code"), max_length=20),
        "city": check.text("address.city", value.get("city"), max_length=120),
        "visibility": visibility,
    }


def _check_contact_points(
    check: LineChecker, value: Any, default_visibility: str, country: str, ignored: set[str]
) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        check.problem("contact_points", "must be a list of objects")
        return []
    points: list[dict[str, Any]] = []
    for index, point in enumerate(value):
        prefix = f"contact_points[{index}]"
        if not isinstance(point, dict):
            check.problem(prefix, "must be an object")
            continue
        ignored.update(
            f"contact_points[].{key}" for key in point if key not in CONTACT_POINT_FIELDS
        )
        if not any(point.get(key) for key in ("role", "email", "phone")):
            check.problem(prefix, "needs at least a role, an e-mail address or a phone")
        points.append(
            {
                "role": check.text(f"{prefix}.role", point.get("role"), max_length=200),
                "email": check.email(f"{prefix}.email", point.get("email")),
                "phone": check.phone(f"{prefix}.phone", point.get("phone"), country),
                "languages": check.codes(f"{prefix}.languages", "language", point.get("languages")),
                "visibility": check.choice(
                    f"{prefix}.visibility",
                    point.get("visibility"),
                    VISIBILITIES,
                    default_visibility,
                ),
            }
        )
    return points
