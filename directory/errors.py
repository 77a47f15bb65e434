"""Domain errors of the directory, each with a message an operator or a client can act on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class DirectoryError(Exception):
    """Base of every directory error."""


@dataclass(frozen=True)
class ImportProblem:
    """One thing wrong in an import file, located by line and (when known) field."""

    line: int
    field: str | None
    message: str

    def __str__(self) -> str:
        if self.field:
            return f"line {self.line}, field {self.field}: {self.message}"
        return f"line {self.line}: {self.message}"


class InvalidImportFile(DirectoryError):
    """The import file has errors; nothing was imported."""

    def __init__(self, problems: Sequence[ImportProblem]) -> None:
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} error(s); nothing was imported")


class UnknownExportFormat(DirectoryError):
    """The export format or scope is not one Liaison offers."""


@dataclass(frozen=True)
class FieldError:
    """Why one form field was refused: an English message (a translation key) and its values."""

    message: str
    values: dict[str, str | int] | None = None

    def __str__(self) -> str:
        return self.message % (self.values or {})


class InvalidDirectoryInput(DirectoryError):
    """A directory write was refused because of these fields; nothing was changed."""

    def __init__(self, errors: dict[str, FieldError]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{name}: {error}" for name, error in self.errors.items()))


class OrganisationNotFound(DirectoryError):
    """No organisation (or child record of it) has this id."""
