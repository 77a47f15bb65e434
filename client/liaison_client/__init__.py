"""Liaison's Python client: the envelope-v1 crypto as a library, and ``liaison-client``.

Talking to a relay (what a case-management system integrates)::

    from pathlib import Path
    from liaison_client.api import Client
    from liaison_client.keystore import KeyStore
    from liaison_client.mailbox import Mailbox
    from liaison_client.session import LocalState

    home = Path("/var/lib/casesystem/liaison")          # keys + remembered state, mode 0700
    mailbox = Mailbox(Client("https://liaison.example"), KeyStore(home), LocalState.load(home))
    mailbox.state.base_url = "https://liaison.example"
    mailbox.login(email, password, totp_code)           # bearer token, kept in server.json
    recovery_key = mailbox.set_up_keys(passphrase, ops=3, mem=64 * 1024 * 1024)  # once
    mailbox.unlock(passphrase=passphrase, from_server=True)  # or recovery_key=…
    anna = mailbox.person("anna@example.org")           # pub_sig + key log + pinned key
    org = mailbox.organisation("nl-comensha")           # its contact points (to_org)
    sent = mailbox.send(org.contact_points, "Subject", "Text", tlp="TLP:AMBER",
                        files=[Path("statement.pdf")], to_org=org.organisation_id)
    page, cursor = mailbox.inbox()                      # metadata; follow the cursor
    opened = mailbox.read(page[0]["id"])                # every check of §3, then marks read
    mailbox.ack(opened.header["id"]); mailbox.send_receipt(opened)
    mailbox.fetch_attachment(message_id, blob_id, Path("out.pdf"))  # streamed, hash-checked
    mailbox.receipts(sent["id"])                        # who acknowledged / read it
    mailbox.send_referral(org, form)                    # kind referral; form checked first
    mailbox.referrals("incoming"); mailbox.set_referral_status(referral_id, "accepted")
    mailbox.open_referral(referral_id)                  # .form, or .problems of a bad form

``Mailbox.open(home)`` does the same from a directory ``liaison-client`` set up. Requests safe
to repeat are retried through lost connections and 5xx answers for up to 60 s
(``liaison_client.retry.RetryPolicy``; ``liaison_client.retry.GaveUp`` when the deadline passes). Errors:
``liaison_client.api.ApiError`` (``status``, ``check``: the relay refused or was unreachable) and
``liaison_client.errors.CryptoError`` and its kinds (``reason``: e.g. ``key-changed`` — a person's key
differs from the pinned one; pass ``accept_change=True`` only after comparing safety numbers —
``fork`` — the key log does not extend the remembered head — ``bad-signature``).

The crypto underneath: ``liaison_client.identity`` (keys, fingerprints, safety numbers),
``liaison_client.messages`` (``seal`` / ``open_message``), ``liaison_client.blobs`` (streamed attachments),
``liaison_client.backup`` (key backups), ``liaison_client.keylog`` (key-log checks), ``liaison_client.keystore`` (local
key files and pinned keys). Every rejection raises a ``liaison_client.errors.CryptoError`` whose
``reason`` names the failed check.
"""
