"""Interop: what the Python client seals, the browser module (under Node) opens, and back —
messages, attachments and key backups."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from liaison_client.backup import create_backup, open_with_passphrase
from liaison_client.blobs import decrypt_to_file, encrypt_file
from liaison_client.encoding import b64
from liaison_client.identity import Identity, public_key_from_b64
from liaison_client.messages import open_message, seal

from tests.client.conftest import message_body

SCRIPT = Path(__file__).with_name("interop.mjs")


def node(op: str, **request: Any) -> Any:
    """Ask the browser crypto module, run by Node, to do one operation."""
    executable = shutil.which("node")
    assert executable, "node is required for the interop tests"
    result = subprocess.run(
        [executable, str(SCRIPT)], input=json.dumps({"op": op, **request}), capture_output=True,
        text=True, timeout=60, check=True,
    )  # fmt: skip
    answer = json.loads(result.stdout)
    if "error" in answer:
        raise AssertionError(f"node refused: {answer['error']}")
    return answer["ok"]


def secrets_of(identity: Identity) -> dict[str, str]:
    return {
        "id": identity.user_id, "sign_sk": b64(identity.sign_sk), "box_sk": b64(identity.box_sk),
        "created_at": identity.created_at, **public_of(identity),
    }  # fmt: skip


def public_of(identity: Identity) -> dict[str, str]:
    return {
        "id": identity.user_id, "sign_pk": b64(identity.sign_pk), "box_pk": b64(identity.box_pk),
        "created_at": identity.created_at,
    }  # fmt: skip


UNICODE = "Slachtoffer spreekt Roemeens — tolk nodig. Überweisung ✓ 🚑"


def test_a_message_sealed_in_python_opens_in_the_browser_module(people) -> None:
    anna, bram, chloe = people.values()
    envelope = seal(anna, [bram.public(), chloe.public()], message_body(UNICODE)).to_json()
    for reader in (bram, chloe, anna):
        opened = node("open", envelope=envelope, reader=secrets_of(reader), sender=public_of(anna))
        assert opened["body"] == message_body(UNICODE)


def test_a_message_sealed_in_the_browser_module_opens_in_python(people) -> None:
    anna, bram, _ = people.values()
    sealed = node("seal", sender=secrets_of(bram), recipients=[public_of(anna)],
                  body=message_body(UNICODE), kind="referral")  # fmt: skip
    opened = open_message(sealed["envelope"], anna, bram.public())
    assert opened.body == message_body(UNICODE)
    assert opened.header["kind"] == "referral"


def test_a_tampered_browser_message_is_refused_by_python(people) -> None:
    anna, bram, _ = people.values()
    envelope = node("seal", sender=secrets_of(bram), recipients=[public_of(anna)],
                    body=message_body())["envelope"]  # fmt: skip
    envelope["wraps"] = [w for w in envelope["wraps"] if w["to"] == anna.user_id]
    with pytest.raises(Exception, match="bad-signature"):
        open_message(envelope, anna, bram.public())


@pytest.mark.parametrize("size", [0, 65536, 150_000])
def test_an_attachment_encrypted_in_python_decrypts_in_the_browser_module(tmp_path, size) -> None:
    plain = os.urandom(size)
    (tmp_path / "scan.pdf").write_bytes(plain)
    manifest = encrypt_file(tmp_path / "scan.pdf", tmp_path / "blob", str(uuid.uuid4()))
    answer = node("decrypt-blob", blob_path=str(tmp_path / "blob"), manifest=manifest,
                  out_path=str(tmp_path / "out"))  # fmt: skip
    assert answer["size"] == size
    assert (tmp_path / "out").read_bytes() == plain


def test_an_attachment_encrypted_in_the_browser_module_decrypts_in_python(tmp_path) -> None:
    plain = os.urandom(200_000)
    (tmp_path / "scan.pdf").write_bytes(plain)
    manifest = node("encrypt-blob", plaintext_path=str(tmp_path / "scan.pdf"),
                    blob_path=str(tmp_path / "blob"), blob_id=str(uuid.uuid4()),
                    name="scan.pdf", mime="application/pdf")  # fmt: skip
    blob = tmp_path / "blob"
    with blob.open("rb") as source:
        decrypt_to_file(source, blob.stat().st_size, manifest, tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == plain
    assert manifest["mime"] == "application/pdf"


def test_a_key_backup_made_in_either_client_unlocks_in_the_other(people) -> None:
    anna = people["anna"]
    bundle, recovery_key = create_backup([anna], "sleutelzin voor anna", version=2)
    assert node("open-backup", bundle=bundle, passphrase="sleutelzin voor anna")["key_ids"] == [
        anna.key_id
    ]
    assert node("open-backup", bundle=bundle, recovery_key=b64(recovery_key))["key_ids"] == [
        anna.key_id
    ]
    made = node("create-backup", user=secrets_of(anna), passphrase="in de browser", version=3)
    keys = open_with_passphrase(made["bundle"], "in de browser", last_version=2)
    assert [k.key_id for k in keys] == [anna.key_id]
    assert public_key_from_b64(**_args(public_of(anna))) == keys[0].public()


def _args(public: dict[str, str]) -> dict[str, str]:
    return {"user_id": public["id"], "sign_pk": public["sign_pk"], "box_pk": public["box_pk"],
            "created_at": public["created_at"]}  # fmt: skip
