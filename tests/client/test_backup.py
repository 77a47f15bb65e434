"""Key backups (§5): unlocking on another device, and the downgrades a server could try."""

from __future__ import annotations

import pytest
from liaison_client.backup import create_backup, open_with_passphrase, open_with_recovery_key
from liaison_client.errors import BackupError
from liaison_client.identity import generate


@pytest.fixture(scope="module")
def backup():
    current = generate("6d0ddd91-594f-48cf-9ac7-ac12a1d27ac5")
    older = generate(current.user_id, "2025-01-01T00:00:00Z")
    bundle, recovery_key = create_backup([current, older], "lange zin van de sleutel", version=5)
    return bundle, recovery_key, [current.key_id, older.key_id]


def test_backup_opens_with_the_passphrase_current_key_first(backup) -> None:
    bundle, _, key_ids = backup
    keys = open_with_passphrase(bundle, "lange zin van de sleutel", last_version=5)
    assert [k.key_id for k in keys] == key_ids


def test_backup_opens_with_the_recovery_key(backup) -> None:
    bundle, recovery_key, key_ids = backup
    assert [k.key_id for k in open_with_recovery_key(bundle, recovery_key)] == key_ids


def test_a_wrong_passphrase_is_told_apart(backup) -> None:
    with pytest.raises(BackupError) as error:
        open_with_passphrase(backup[0], "verkeerd")
    assert error.value.reason == "wrong-passphrase"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"ops": 2}, "weak-kdf"),
        ({"mem": 32 * 1024 * 1024}, "weak-kdf"),
        ({"alg": "argon2i13"}, "weak-kdf"),
        ({"mem": 8 * 1024 * 1024 * 1024}, "weak-kdf"),
    ],
)
def test_kdf_parameters_lowered_by_the_server_are_refused(backup, change, reason) -> None:
    bundle = {**backup[0], "pass": {**backup[0]["pass"], **change}}
    with pytest.raises(BackupError) as error:
        open_with_passphrase(bundle, "lange zin van de sleutel")
    assert error.value.reason == reason


def test_an_older_backup_than_one_already_seen_is_refused(backup) -> None:
    bundle, recovery_key, _ = backup
    with pytest.raises(BackupError) as error:
        open_with_recovery_key(bundle, recovery_key, last_version=6)
    assert error.value.reason == "rollback"


def test_a_relabelled_version_does_not_open(backup) -> None:
    bundle, recovery_key, _ = backup
    with pytest.raises(BackupError) as error:
        open_with_recovery_key({**bundle, "version": 7}, recovery_key, last_version=5)
    assert error.value.reason == "bad-ciphertext"
