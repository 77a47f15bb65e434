"""The client is a distribution of its own: installable alone, typed, one error root, and a
key store an integrator can replace."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
import venv
from pathlib import Path
from typing import Any

import pytest
from liaison_client import errors
from liaison_client.keystore import DocumentKeyStore, FileKeyStore, KeyStore, KeyStoreError
from liaison_client.results import Grant, MessagePage, Posted, Referral
from liaison_client.retry import GaveUp

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "client"
FAST = {"ops": 3, "mem": 64 * 1024 * 1024}  # the minimum the backup format accepts


@pytest.mark.slow
def test_the_client_installs_alone_and_passes_its_self_test(tmp_path, shared_dir) -> None:
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    installed = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-c", ROOT / "constraints.txt", CLIENT],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    listed = subprocess.run(
        [python, "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    names = {package["name"].lower() for package in json.loads(listed.stdout)}
    selftest = subprocess.run(
        [env / "bin" / "liaison-client", "selftest", shared_dir / "specs/vectors/envelope-v1.json"],
        capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path,
    )  # fmt: skip

    assert {"liaison-client", "pynacl", "requests", "click"} <= names
    assert not names & {"flask", "sqlalchemy", "tantivy", "psycopg", "liaison"}
    assert selftest.returncode == 0, selftest.stdout + selftest.stderr
    assert " passed, 0 failed" in selftest.stdout


@pytest.mark.slow
def test_mypy_strict_is_clean_on_the_client_package() -> None:
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "liaison_client"],
        cwd=CLIENT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip

    assert checked.returncode == 0, checked.stdout
    assert (CLIENT / "liaison_client" / "py.typed").is_file()


def test_every_error_of_the_library_has_one_root() -> None:
    kinds = [errors.ApiError, errors.CryptoError, errors.EnvelopeError, errors.BlobError,
             errors.BackupError, errors.KeyLogError, errors.ReferralFormError, KeyStoreError,
             GaveUp]  # fmt: skip

    assert all(issubclass(kind, errors.LiaisonError) for kind in kinds)


def test_results_are_typed_and_a_malformed_answer_is_an_api_error() -> None:
    grant = Grant.from_json(
        {"token": "t", "expires_at": None, "user": {"id": "u", "email": "a@b", "display_name": "A"}}
    )
    page = MessagePage.from_json({"messages": [], "next": None})
    referral = Referral.from_json(
        {"id": "r", "status": "sent", "urgency": "high", "overdue": True,
         "from_org": {"id": "o", "name": "Payoke", "country": "BE"}, "to_org": None,
         "events": [{"at": "2026-12-05T10:00:00Z", "event": "sent", "to_status": "sent"}]}
    )  # fmt: skip

    assert (grant.token, grant.user.display_name) == ("t", "A")
    assert page.messages == ()
    assert referral.from_org is not None
    assert (referral.from_org.name, referral.overdue, referral.events[0].event) == (
        "Payoke", True, "sent",
    )  # fmt: skip
    with pytest.raises(errors.ApiError) as refused:
        Posted.from_json({"created": True})
    assert refused.value.check == "bad-answer"
    with pytest.raises(errors.LiaisonError):
        Referral.from_json(["not", "an", "object"])


class MemoryKeyStore(DocumentKeyStore):
    """What an integrator writes to keep keys in its own database: two methods."""

    where = "the case system's database"

    def __init__(self) -> None:
        self.rows: dict[str, str] = {}

    def load(self, name: str) -> Any:
        return json.loads(self.rows[name]) if name in self.rows else None

    def save(self, name: str, value: object) -> None:
        self.rows[name] = json.dumps(value)


def test_an_integrator_keeps_keys_in_its_own_store(tmp_path) -> None:
    store = MemoryKeyStore()
    user_id = str(uuid.uuid4())
    recovery_key = store.initialise(user_id, "a long passphrase", **FAST)
    [identity] = store.unlock(passphrase="a long passphrase")
    again = store.unlock(recovery_key=recovery_key)
    files = FileKeyStore(tmp_path / "home")

    assert isinstance(store, KeyStore)
    assert isinstance(files, KeyStore)
    assert identity.user_id == user_id
    assert again[0].key_id == identity.key_id
    assert store.own_public_key().key_id == identity.key_id
    assert set(store.rows) == {"backup.json", "public.json", "state.json"}
    assert "a long passphrase" not in json.dumps(store.rows)
    with pytest.raises(KeyStoreError, match="the case system's database"):
        store.initialise(user_id, "another passphrase", **FAST)
    with pytest.raises(KeyStoreError, match="no key backup"):
        files.unlock(passphrase="x")
