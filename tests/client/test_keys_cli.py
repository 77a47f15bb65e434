"""``liaison-client keys init|unlock|show|verify`` against local key files."""

from __future__ import annotations

import json
import re
import shutil
import stat
from pathlib import Path
from typing import NamedTuple

import pytest
from click.testing import CliRunner
from liaison_client.backup import create_backup
from liaison_client.cli import main
from liaison_client.encoding import b64
from liaison_client.identity import attest, generate, signing_keypair
from liaison_client.keystore import FileKeyStore, public_key_document

USER = "6d0ddd91-594f-48cf-9ac7-ac12a1d27ac5"
PASSPHRASE = "een lange sleutelzin"


class Home(NamedTuple):
    path: Path
    recovery_key: str


def run(home, *args, input=None):
    return CliRunner().invoke(main, [*args, "--home", str(home)], input=input)


@pytest.fixture(scope="module")
def initialised(tmp_path_factory) -> Home:
    path = tmp_path_factory.mktemp("template") / "keys"
    result = run(path, "keys", "init", "--user", USER, input=f"{PASSPHRASE}\n{PASSPHRASE}\n")
    assert result.exit_code == 0, result.output
    return Home(path, result.output.strip().splitlines()[-1].strip())


@pytest.fixture
def home(initialised, tmp_path) -> Home:
    """A key directory after ``keys init`` (a copy, so each test may change it)."""
    shutil.copytree(initialised.path, tmp_path / "keys")
    return Home(tmp_path / "keys", initialised.recovery_key)


def test_init_shows_the_recovery_key_once_and_writes_no_secret_in_clear(home) -> None:
    keys = FileKeyStore(home.path).unlock(passphrase=PASSPHRASE)
    on_disk = "".join(p.read_text() for p in home.path.iterdir())
    assert b64(keys[0].sign_sk) not in on_disk
    assert b64(keys[0].box_sk) not in on_disk
    assert home.recovery_key not in on_disk
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in home.path.iterdir())
    assert stat.S_IMODE(home.path.stat().st_mode) == 0o700


def test_init_refuses_to_overwrite_existing_keys(home) -> None:
    result = run(home.path, "keys", "init", "--user", USER, input=f"{PASSPHRASE}\n{PASSPHRASE}\n")
    assert result.exit_code == 1
    assert "already exist" in result.output


def test_show_prints_key_id_and_fingerprint(home) -> None:
    public = FileKeyStore(home.path).own_public_key()
    result = run(home.path, "keys", "show")
    assert f"Key id:      {public.key_id}" in result.output
    assert f"Fingerprint: {public.fingerprint}" in result.output
    document = json.loads(run(home.path, "keys", "show", "--json").output)
    assert document["key_id"] == public.key_id


def test_unlock_with_passphrase_or_recovery_key_and_refuses_a_wrong_one(home) -> None:
    assert run(home.path, "keys", "unlock", input=f"{PASSPHRASE}\n").exit_code == 0
    recovered = run(home.path, "keys", "unlock", "--recovery-key", input=f"{home.recovery_key}\n")
    assert recovered.exit_code == 0, recovered.output
    wrong = run(home.path, "keys", "unlock", input="iets anders dan dat\n")
    assert wrong.exit_code == 1
    assert "the passphrase does not open this backup" in wrong.output


def test_unlock_on_a_second_device_brings_the_same_key(home, tmp_path) -> None:
    bundle = tmp_path / "backup.json"
    bundle.write_text((home.path / "backup.json").read_text())
    other = tmp_path / "laptop"
    result = run(other, "keys", "unlock", "--backup", str(bundle), input=f"{PASSPHRASE}\n")
    assert result.exit_code == 0, result.output
    assert FileKeyStore(other).own_public_key() == FileKeyStore(home.path).own_public_key()


def test_unlock_refuses_a_backup_older_than_one_seen(home, tmp_path) -> None:
    identity = FileKeyStore(home.path).unlock(passphrase=PASSPHRASE)[0]
    newer, _ = create_backup([identity], PASSPHRASE, 3)
    (tmp_path / "newer.json").write_text(json.dumps(newer))
    assert run(home.path, "keys", "unlock", "--backup", str(tmp_path / "newer.json"),
               input=f"{PASSPHRASE}\n").exit_code == 0  # fmt: skip
    older, _ = create_backup([identity], PASSPHRASE, 2)
    (tmp_path / "older.json").write_text(json.dumps(older))
    result = run(home.path, "keys", "unlock", "--backup", str(tmp_path / "older.json"),
                 input=f"{PASSPHRASE}\n")  # fmt: skip
    assert result.exit_code == 1
    assert "(rollback)" in result.output


@pytest.fixture
def bram(tmp_path):
    identity = generate("c698726d-8af8-4625-9536-d47eddf12b2b")
    path = tmp_path / "bram.json"
    path.write_text(json.dumps(public_key_document(identity)))
    return identity, path


def test_verify_pins_a_key_and_compares_fingerprints_read_in_person(home, bram) -> None:
    identity, path = bram
    first = run(home.path, "keys", "verify", str(path))
    assert "Safety number:" in first.output
    assert "trust: unverified" in first.output
    wrong = run(home.path, "keys", "verify", str(path), "--fingerprint", "00000 " * 6)
    assert wrong.exit_code == 1
    heard = run(home.path, "keys", "verify", str(path), "--fingerprint",
                identity.public().fingerprint.replace(" ", ""))  # fmt: skip
    assert "trust: in person" in heard.output
    assert FileKeyStore(home.path).pins()[identity.user_id].trust == "in-person"


def test_a_changed_key_is_refused_until_acknowledged(home, bram, tmp_path) -> None:
    identity, path = bram
    run(home.path, "keys", "verify", str(path))
    rotated = tmp_path / "rotated.json"
    rotated.write_text(json.dumps(public_key_document(generate(identity.user_id))))
    refused = run(home.path, "keys", "verify", str(rotated))
    assert refused.exit_code == 1
    assert "(key-changed)" in refused.output
    assert run(home.path, "keys", "verify", str(rotated), "--accept-change").exit_code == 0


def test_a_key_with_a_forged_publication_proof_is_refused(home, bram, tmp_path) -> None:
    identity, path = bram
    document = json.loads(path.read_text())
    document["box_pk"] = b64(generate(identity.user_id).box_pk)
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(document))
    result = run(home.path, "keys", "verify", str(forged))
    assert result.exit_code == 1
    assert FileKeyStore(home.path).pins() == {}


def test_an_attestation_by_the_configured_root_key_marks_the_key_verified(home, bram) -> None:
    identity, path = bram
    root_pk, root_sk = signing_keypair()
    document = json.loads(path.read_text())
    sig = attest(root_sk, identity.public(), "2099-01-01T00:00:00Z")
    document["attestation"] = {"valid_until": "2099-01-01T00:00:00Z", "sig": b64(sig)}
    path.write_text(json.dumps(document))
    other_root, _ = signing_keypair()
    result = run(home.path, "keys", "verify", str(path), "--root-key", b64(other_root))
    assert "trust: unverified" in result.output
    result = run(home.path, "keys", "verify", str(path), "--root-key", b64(root_pk))
    assert "Attested by the secretariat." in result.output
    assert FileKeyStore(home.path).pins()[identity.user_id].trust == "secretariat"


def test_init_shows_the_grouped_recovery_key_and_can_save_it_to_a_file(tmp_path) -> None:
    saved = tmp_path / "recovery.txt"
    result = run(
        tmp_path / "keys", "keys", "init", "--user", USER, "--recovery-file", str(saved),
        input=f"{PASSPHRASE}\n{PASSPHRASE}\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    written = result.output.strip().splitlines()[-1].strip()
    assert re.fullmatch(r"([0-9A-HJKMNP-TV-Z]{4}-){13}[0-9A-HJKMNP-TV-Z]{4}", written)
    assert written in saved.read_text(encoding="utf-8")
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    typed = written.lower().replace("-", " ")  # case and separators do not matter
    unlocked = run(tmp_path / "keys", "keys", "unlock", "--recovery-key", input=f"{typed}\n")
    assert unlocked.exit_code == 0, unlocked.output
    typo = written[:-1] + ("0" if written[-1] != "0" else "1")
    refused = run(tmp_path / "keys", "keys", "unlock", "--recovery-key", input=f"{typo}\n")
    assert refused.exit_code == 1
    assert "recovery-key-typo" in refused.output


def test_a_recovery_key_in_the_older_base64url_form_still_unlocks(tmp_path) -> None:
    identity = generate(USER)
    bundle, recovery_key = create_backup([identity], PASSPHRASE, 1)
    backup = tmp_path / "backup.json"
    backup.write_text(json.dumps(bundle), encoding="utf-8")
    result = run(
        tmp_path / "keys", "keys", "unlock", "--recovery-key", "--backup", str(backup),
        input=f"{b64(recovery_key)}\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert identity.key_id in result.output
