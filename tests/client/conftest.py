"""Fixtures of the client tests: the shared vector file and people with fresh identities."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from liaison_client.identity import Identity, generate

VECTORS = Path(__file__).resolve().parents[3] / "shared" / "specs" / "vectors" / "envelope-v1.json"


def load_vectors() -> dict[str, Any]:
    """The shared envelope-v1 vector file."""
    return json.loads(VECTORS.read_text(encoding="utf-8"))


@pytest.fixture
def people() -> dict[str, Identity]:
    """Three people with fresh identities."""
    return {name: generate(str(uuid.uuid4())) for name in ("anna", "bram", "chloe")}


def message_body(text: str = "Kunnen jullie maandag een intake plannen?") -> dict[str, Any]:
    """A message body as the compose form produces it."""
    return {
        "tlp": "TLP:AMBER", "subject": "Doorverwijzing", "body": text, "form": None,
        "attachments": [], "prev": None,
    }  # fmt: skip
