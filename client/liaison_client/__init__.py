"""Liaison's Python client: the envelope-v1 crypto as a library, and ``liaison-client``.

A distribution of its own (``pip install ./client``: PyNaCl, requests and click, nothing of the
server). Talking to a relay (what a case-management system integrates)::

    from pathlib import Path
    from liaison_client.api import Client
    from liaison_client.keystore import FileKeyStore
    from liaison_client.mailbox import Mailbox
    from liaison_client.session import LocalState

    home = Path("/var/lib/casesystem/liaison")       # keys + remembered state, mode 0700
    state = LocalState.load(home)
    mailbox = Mailbox(Client("https://liaison.example"), FileKeyStore(home), state)
    mailbox.state.base_url = "https://liaison.example"
    grant = mailbox.login(email, password, totp_code)  # a Grant; the token is kept
    recovery_key = mailbox.set_up_keys(passphrase, ops=3, mem=64 * 1024 * 1024)  # once
    mailbox.unlock(passphrase=passphrase, from_server=True)  # or recovery_key=...
    anna = mailbox.person("anna@example.org")        # pub_sig + key log + pinned key
    org = mailbox.organisation("nl-comensha")        # its contact points (to_org)
    posted = mailbox.send(org.contact_points, "Subject", "Text", tlp="TLP:AMBER",
                          files=[Path("statement.pdf")], to_org=org.organisation_id)
    page = mailbox.inbox()                           # a MessagePage; follow page.next
    opened = mailbox.read(page.messages[0].id)       # every check of section 3, marks read
    mailbox.ack(opened.header["id"]); mailbox.send_receipt(opened)
    mailbox.fetch_attachment(message_id, blob_id, Path("out.pdf"))  # streamed, checked
    mailbox.receipts(posted.id)                      # RecipientStatus: acknowledged / read
    mailbox.send_referral(org, form)                 # kind referral; form checked first
    mailbox.referrals("incoming"); mailbox.set_referral_status(referral_id, "accepted")
    mailbox.open_referral(referral_id)               # .form, or .problems of a bad form

Results are typed objects (``liaison_client.results``). Keys live behind the ``KeyStore``
protocol (``liaison_client.keystore``): ``FileKeyStore`` by default, or your own (a database,
an HSM) — see ``docs/python-client.md``. ``Mailbox.open(home)`` does the same from a directory
``liaison-client`` set up. Requests safe to repeat are retried through lost connections and 5xx
answers for up to 60 s (``liaison_client.retry.RetryPolicy``; ``GaveUp`` past the deadline).

Every error the library raises on purpose is a ``liaison_client.errors.LiaisonError``:
``ApiError`` (``status``, ``check``: the relay refused or was unreachable) and ``CryptoError``
and its kinds (``reason``: e.g. ``key-changed`` — a person's key differs from the pinned one;
pass ``accept_change=True`` only after comparing safety numbers — ``fork`` — the key log does
not extend the remembered head — ``bad-signature``).

The crypto underneath: ``liaison_client.identity`` (keys, fingerprints, safety numbers),
``liaison_client.messages`` (``seal`` / ``open_message``), ``liaison_client.blobs`` (streamed
attachments), ``liaison_client.backup`` (key backups), ``liaison_client.keylog`` (key-log
checks). The server imports only the envelope, identity, encoding, key-log and error modules.
"""
