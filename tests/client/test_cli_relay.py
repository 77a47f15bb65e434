"""``liaison-client`` against a real relay: sign-in with password and TOTP, keys published and
unlocked from the server, messages to people and organisations, attachments, acknowledgements,
receipts, and the trust checks (changed keys, a forked key log)."""

# ruff: noqa: F811 - the relay fixtures are imported by name

from __future__ import annotations

import os

import pytest
from liaison_client.errors import KeyLogError
from liaison_client.identity import generate
from liaison_client.keylog import next_head, sign_head
from liaison_client.keystore import KeyStoreError, public_key_document
from sqlalchemy import select

from directory.models import Organization
from messaging.models import Blob, BlobChunk, Envelope, KeyLogEntry
from messaging.services.keylog import log_key
from tests.accounts.conftest import code_for
from tests.client.relay_fixtures import account, organisations, relay  # noqa: F401


def _sent_id(result) -> str:
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1].removeprefix("Sent ")


def test_a_message_to_a_person_is_read_acknowledged_and_the_sender_sees_it(account) -> None:
    anna, bram = account("A"), account("B")

    text = "Kunnen jullie maandag een intake doen?"
    sent = anna.cli("send", "--to", bram.user.email, "--subject", "Intake maandag",
                    "--body", text, "--tlp", "TLP:RED")  # fmt: skip
    message_id = _sent_id(sent)
    listed = bram.cli("inbox")
    shown = bram.cli("read", message_id)
    acked = bram.cli("ack", message_id)
    receipts = anna.cli("receipts", message_id)

    assert f"{message_id}" in listed.output
    assert "new" in listed.output
    assert shown.exit_code == 0, shown.output
    assert "TLP:     TLP:RED" in shown.output
    assert "Subject: Intake maandag" in shown.output
    assert "Kunnen jullie maandag een intake doen?" in shown.output
    assert acked.exit_code == 0
    assert "Acknowledged" in acked.output
    assert bram.id in receipts.output
    assert "read -" not in receipts.output
    assert "acknowledged -" not in receipts.output


def test_a_message_to_an_organisation_reaches_every_contact_point(account, db_session) -> None:
    anna, bram, chloe = account("A"), account("B"), account("B")

    message_id = _sent_id(anna.cli("send", "--org", "nl-comensha", "--subject", "Opvang",
                                   "--body", "Hebben jullie plaats?"))  # fmt: skip

    for reader in (bram, chloe):
        shown = reader.cli("read", message_id)
        assert shown.exit_code == 0, shown.output
        assert "Hebben jullie plaats?" in shown.output
    stored = db_session.get(Envelope, message_id)
    assert stored.to_org_id is not None
    assert {w["to"] for w in stored.wraps} == {anna.id, bram.id, chloe.id}


def test_an_attachment_travels_encrypted_and_arrives_identical(account, tmp_path) -> None:
    anna, bram = account("A"), account("B")
    original = tmp_path / "verklaring.pdf"
    original.write_bytes(os.urandom(300_000))

    message_id = _sent_id(anna.cli("send", "--to", bram.id, "--subject", "Verklaring",
                                   "--body", "Zie bijlage", "--file", str(original)))  # fmt: skip
    shown = bram.cli("read", message_id)
    blob_id = next(
        line.split()[1] for line in shown.output.splitlines() if line.startswith("Attachment:")
    )
    fetched = bram.cli("fetch-attachment", message_id, blob_id, "--out", str(tmp_path / "got"))

    assert fetched.exit_code == 0, fetched.output
    assert (tmp_path / "got").read_bytes() == original.read_bytes()
    assert "verklaring.pdf (300000 B)" in shown.output


def test_an_attachment_altered_on_the_server_is_refused_and_nothing_is_saved(
    account, db_session, settings, tmp_path
) -> None:
    anna, bram = account("A"), account("B")
    original = tmp_path / "foto.jpg"
    original.write_bytes(os.urandom(150_000))
    message_id = _sent_id(anna.cli("send", "--to", bram.id, "--subject", "Foto",
                                   "--body", "bijlage", "--file", str(original)))  # fmt: skip
    blob = db_session.scalars(select(Blob)).one()
    if blob.store == "filesystem":
        stored = settings.data_dir / "blobs" / blob.path
        altered = bytearray(stored.read_bytes())
        altered[100_000] ^= 1
        stored.write_bytes(bytes(altered))
    else:
        chunk = db_session.get(BlobChunk, (blob.id, 0))
        altered = bytearray(chunk.data)
        altered[100_000] ^= 1
        chunk.data = bytes(altered)
        db_session.commit()

    fetched = bram.cli("fetch-attachment", message_id, blob.id, "--out", str(tmp_path / "got"))

    assert fetched.exit_code == 1
    assert "(bad-chunk)" in fetched.output
    assert not (tmp_path / "got").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".liaison-")]


def test_keys_unlock_on_a_second_device_from_the_server_backup(account, tmp_path) -> None:
    anna, bram = account("A"), account("B")
    message_id = _sent_id(anna.cli("send", "--to", bram.id, "--subject", "S", "--body", "twee"))
    laptop = type(bram)(bram.user, tmp_path / "laptop", bram.url)

    signed_in = laptop.cli("login", "--url", laptop.url, "--email", bram.user.email,
                           "--code", code_for(bram.user, steps_ahead=1))  # fmt: skip
    second_identity = laptop.cli("keys", "init")
    unlocked = laptop.cli("keys", "unlock")
    shown = laptop.cli("read", message_id)

    assert signed_in.exit_code == 0, signed_in.output
    assert second_identity.exit_code == 1
    assert "already have keys on the relay" in second_identity.output
    assert unlocked.exit_code == 0, unlocked.output
    assert "twee" in shown.output


def test_a_changed_key_blocks_sending_until_the_change_is_accepted(account, db_session) -> None:
    anna, bram = account("A"), account("B")
    _sent_id(anna.cli("send", "--to", bram.id, "--subject", "S", "--body", "eerste"))
    rotated = generate(bram.id)
    document = public_key_document(rotated)
    del document["user_id"]
    bram.mailbox(unlock=False).client.publish_key(document)

    blocked = anna.cli("send", "--to", bram.id, "--subject", "S", "--body", "tweede")
    accepted = anna.cli("send", "--to", bram.id, "--subject", "S", "--body", "tweede",
                        "--accept-change")  # fmt: skip

    assert blocked.exit_code == 1
    assert "--accept-change" in blocked.output
    assert "Traceback" not in blocked.output
    stored = db_session.get(Envelope, _sent_id(accepted))
    assert {w["key_id"] for w in stored.wraps if w["to"] == bram.id} == {rotated.key_id}


def test_a_key_log_that_does_not_extend_the_remembered_head_is_refused(
    account, db_session, settings
) -> None:
    anna, bram = account("A"), account("B")
    mailbox = anna.mailbox(unlock=False)
    mailbox.person(bram.id)  # remembers the head after both publications
    document = public_key_document(generate(bram.id))
    del document["user_id"]
    bram.mailbox(unlock=False).client.publish_key(document)
    # The operator rewrites history: the new entry now chains from another head, re-signed
    # with the log key, as a server showing different logs to different people would.
    newest = db_session.scalars(select(KeyLogEntry).order_by(KeyLogEntry.seq.desc())).first()
    newest.head = next_head(os.urandom(32), newest.entry)
    newest.head_sig = sign_head(log_key(db_session, settings).secret, newest.seq, newest.head).sig
    db_session.commit()

    with pytest.raises(KeyLogError) as refused:
        mailbox.person(bram.id, accept_change=True)
    verified = anna.cli("keys", "verify", bram.id, "--accept-change")

    assert refused.value.reason == "fork"
    assert verified.exit_code == 1
    assert "(fork)" in verified.output


def test_the_library_pages_the_inbox_and_deletes_only_its_own_copy(account) -> None:
    anna, bram = account("A"), account("B")
    sender, reader = anna.mailbox(), bram.mailbox()
    to_bram = sender.person(bram.id)
    sent = [sender.send([to_bram], f"Bericht {n}", "tekst").id for n in range(5)]

    page = reader.inbox(limit=2)
    listed = [m.id for m in page.messages]
    while page.next:
        page = reader.inbox(page.next, limit=2)
        listed += [m.id for m in page.messages]
    reader.delete(sent[0])

    assert sorted(listed) == sorted(sent)
    assert sent[0] not in [m.id for m in reader.client.iter_messages()]
    assert sent[0] in [m.id for m in sender.client.iter_messages("sent")]


def test_an_encrypted_read_receipt_reaches_the_sender(account) -> None:
    anna, bram = account("A"), account("B")
    message_id = _sent_id(anna.cli("send", "--to", bram.id, "--subject", "S", "--body", "x"))

    assert bram.cli("read", message_id, "--receipt").exit_code == 0
    receipt = next(m for m in anna.mailbox(unlock=False).client.iter_messages()
                   if m.kind == "receipt")  # fmt: skip
    shown = anna.cli("read", receipt.id)

    assert f"Receipt: {message_id} was read" in shown.output


def test_mistakes_get_one_clear_line_and_an_exit_code(account, tmp_path) -> None:
    anna = account("A")
    stranger = type(anna)(anna.user, tmp_path / "nowhere", "http://127.0.0.1:9")

    not_signed_in = stranger.cli("inbox")
    unreachable = stranger.cli("login", "--url", stranger.url, "--email", "a@example.org",
                               "--code", "123456")  # fmt: skip
    unknown_person = anna.cli("send", "--to", "nobody@example.org", "--subject", "S")
    unknown_message = anna.cli("read", "00000000-0000-4000-8000-000000000000")

    assert not_signed_in.exit_code == 4
    assert "login" in not_signed_in.output
    assert unreachable.exit_code == 3
    assert "cannot reach" in unreachable.output
    assert unknown_person.exit_code == 1
    assert "no such person" in unknown_person.output
    assert unknown_message.exit_code == 1
    assert "not-found" in unknown_message.output
    for result in (not_signed_in, unreachable, unknown_person, unknown_message):
        assert "Traceback" not in result.output


def test_a_person_is_refused_when_the_relay_serves_another_persons_key(account) -> None:
    anna = account("A")
    mailbox = anna.mailbox(unlock=False)
    served = mailbox.client.keys_of(anna.id)["current"]

    with pytest.raises(KeyStoreError) as refused:
        mailbox._checked_key(served, "6d0ddd91-594f-48cf-9ac7-ac12a1d27ac5")

    assert refused.value.reason == "wrong-person"


def test_the_inbox_names_the_sender_and_only_organisations_the_reader_may_see(
    account, db_session, organisations
) -> None:
    anna, bram = account("A"), account("B")
    hidden = Organization(
        ref="be-hidden", name="Verborgen Huis", country="BE", org_type="ngo",
        visibility="secretariat", is_published=True,
    )  # fmt: skip
    db_session.add(hidden)
    anna.user.organizations.append(hidden)
    db_session.commit()
    message_id = _sent_id(
        anna.cli("send", "--to", bram.id, "--subject", "Vraag", "--body", "Hallo")
    )

    listed = bram.cli("inbox")

    assert listed.exit_code == 0, listed.output
    line = next(row for row in listed.output.splitlines() if row.startswith(message_id))
    assert f"from {anna.user.display_name} (Payoke)  new" in line
    assert anna.id not in line
    assert "Verborgen" not in listed.output  # the reader may not know of that organisation
    shown = bram.cli("read", message_id)
    assert f"From:    {anna.user.display_name} (Payoke)" in shown.output
    # Its own member sees it named in its sent box.
    own = anna.cli("inbox", "--sent")
    assert "Payoke, Verborgen Huis" in own.output
