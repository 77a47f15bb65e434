"""In real Chromium: keys set up in the browser, a message with an attachment written there is
read by the Python client (attachment bytes included), the Python reply (with its own attachment
and a read receipt) is read back in the browser — and the marker text stays out of browser
storage, the address bar, the database and the blob store."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest
from liaison_client.api import Client
from liaison_client.backup import create_backup
from liaison_client.blobs import decrypt_to_file, encrypt_file
from liaison_client.encoding import b64
from liaison_client.identity import Identity, generate, public_key_from_b64, verify_publication
from liaison_client.messages import open_message, seal
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy.orm import Session

from accounts.models import Role, User
from accounts.passwords import hash_password
from accounts.totp import new_secret
from core.db import Base, utcnow
from directory.models import Organization
from tests.accounts.conftest import PASSWORD, code_for

pytestmark = pytest.mark.browser

PASSPHRASE = "paarse lantaarn bij de oude sluis"
MARKER = "MARKER-7f3c-slachtoffer-dossier"
REPLY_MARKER = "REPLY-MARKER-91ab-antwoord"
WAIT = 60


def _until(browser, condition, timeout: float = WAIT):
    try:
        return WebDriverWait(browser, timeout).until(lambda _: condition())
    except TimeoutException:
        state = browser.execute_script(
            "const t = (id) => (document.getElementById(id) || {}).textContent;"
            "return [location.href, t('status'), t('problem'), window.__errors || []];"
        )
        raise AssertionError(f"the page did not get there: {state}") from None


def _visible(browser, element_id: str) -> bool:
    """Whether the element is shown (False while a reload replaces the page)."""
    try:
        found = browser.find_elements(By.ID, element_id)
        return bool(found) and found[0].is_displayed()
    except StaleElementReferenceException:
        return False


def _problem(browser) -> str:
    return browser.find_element(By.ID, "problem").text


def _confirm_recovery(browser, *, wrong_first: bool = False) -> str:
    """On the recovery panel: type back the two groups asked for, confirm; returns the key."""
    key = browser.find_element(By.ID, "recovery-key").text
    groups = key.split("-")
    fields = [browser.find_element(By.ID, f"recovery-check-{n}") for n in (1, 2)]
    asked = [int(field.get_attribute("data-group")) for field in fields]
    assert asked[0] < asked[1]
    if wrong_first:
        for field, number in zip(fields, asked, strict=True):
            field.send_keys(groups[number % len(groups)])  # the group after the one asked for
        browser.find_element(By.ID, "recovery-saved").click()
        browser.find_element(By.CSS_SELECTOR, "#recovery-form button[type=submit]").click()
        _until(browser, lambda: "not the groups asked for" in _problem(browser))
        assert _visible(browser, "recovery-panel")
        for field in fields:
            field.clear()
        browser.find_element(By.ID, "recovery-saved").click()
    for field, number in zip(fields, asked, strict=True):
        field.send_keys(groups[number - 1].lower())  # case does not matter
    browser.find_element(By.ID, "recovery-saved").click()
    browser.find_element(By.CSS_SELECTOR, "#recovery-form button[type=submit]").click()
    return key


def _enrolled(db_session: Session, make_user, organisation: Organization) -> User:
    user = make_user(Role.CONTACT_POINT, organizations=[organisation])
    user.password_hash = hash_password(PASSWORD)
    user.totp_secret = new_secret()
    user.totp_enrolled_at = utcnow()
    db_session.commit()
    return user


def _python_person(url: str, user: User) -> tuple[Client, Identity]:
    """The second person signs in with a bearer token and publishes keys from Python."""
    api = Client(url)
    api.login(user.email, PASSWORD, code_for(user))
    identity = generate(user.id)
    bundle, _recovery = create_backup([identity], PASSPHRASE, 1)
    api.put_backup(bundle)
    api.publish_key({
        "key_id": identity.key_id, "sign_pk": b64(identity.sign_pk),
        "box_pk": b64(identity.box_pk), "created_at": identity.created_at,
        "pub_sig": b64(identity.publication_signature()),
    })  # fmt: skip
    return api, identity


def _sender_key(api: Client, user_id: str, key_id: str):
    answer = api.keys_of(user_id)
    document = next(k for k in answer["keys"] if k["key_id"] == key_id)
    key = public_key_from_b64(user_id, document["sign_pk"], document["box_pk"],
                              document["created_at"])  # fmt: skip
    from liaison_client.encoding import unb64

    assert verify_publication(key, unb64(document["pub_sig"], 64))
    return key


def _browser_storage(browser) -> str:
    return browser.execute_script(
        "const all = {};"
        "for (const s of [localStorage, sessionStorage])"
        "  for (let i = 0; i < s.length; i++) all[s.key(i)] = s.getItem(s.key(i));"
        "return JSON.stringify(all);"
    )


def test_browser_and_python_client_exchange_messages_with_attachments(
    live_server, browser, db_session, make_user, settings, tmp_path_factory
) -> None:
    shelter = Organization(ref="be-shelter", name="Opvanghuis", country="BE", org_type="ngo")
    inspectorate = Organization(ref="nl-inspectie", name="Inspectie", country="NL", org_type="ngo")
    db_session.add_all([shelter, inspectorate])
    db_session.commit()
    anna = _enrolled(db_session, make_user, shelter)
    bram = _enrolled(db_session, make_user, inspectorate)
    api, bram_identity = _python_person(live_server.url, bram)

    # Anna signs in in Chromium through the real sign-in pages
    browser.get(live_server.url + "/login?next=/messages")
    browser.find_element(By.NAME, "email").send_keys(anna.email)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, 'form[action="/login"] button[type=submit]').click()
    WebDriverWait(browser, 15).until(lambda b: b.find_element(By.NAME, "code")).send_keys(
        code_for(anna)
    )
    browser.find_element(By.CSS_SELECTOR, 'form[action="/login/totp"] button[type=submit]').click()

    # 1. key set-up: passphrase (twice), the recovery key shown once and confirmed
    browser.get(live_server.url + "/messages")
    _until(browser, lambda: _visible(browser, "setup-panel"))
    browser.find_element(By.ID, "setup-passphrase").send_keys(PASSPHRASE)
    browser.find_element(By.ID, "setup-passphrase2").send_keys(PASSPHRASE + "x")
    browser.find_element(By.CSS_SELECTOR, "#setup-form button[type=submit]").click()
    assert "differ" in _problem(browser)
    browser.find_element(By.ID, "setup-passphrase2").clear()
    browser.find_element(By.ID, "setup-passphrase2").send_keys(PASSPHRASE)
    browser.find_element(By.CSS_SELECTOR, "#setup-form button[type=submit]").click()
    _until(browser, lambda: _visible(browser, "recovery-panel"))
    shown = browser.find_element(By.ID, "recovery-key").text
    assert re.fullmatch(r"([0-9A-HJKMNP-TV-Z]{4}-){13}[0-9A-HJKMNP-TV-Z]{4}", shown)
    download = browser.find_element(By.ID, "recovery-download")
    assert download.get_attribute("download") == "liaison-recovery-key.txt"
    downloads = tmp_path_factory.mktemp("downloads")
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    download.click()
    saved = downloads / "liaison-recovery-key.txt"
    _until(browser, saved.exists)
    _until(browser, lambda: shown in saved.read_text(encoding="utf-8"))
    assert browser.find_element(By.ID, "recovery-print").is_displayed()
    # the print view: the key and what it is, without navigation or the form
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    assert browser.find_element(By.ID, "recovery-key").is_displayed()
    assert browser.find_element(By.CSS_SELECTOR, ".recovery-print-note").is_displayed()
    assert not browser.find_element(By.CSS_SELECTOR, ".messaging-nav").is_displayed()
    assert not browser.find_element(By.ID, "recovery-form").is_displayed()
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert not browser.find_element(By.CSS_SELECTOR, ".recovery-print-note").is_displayed()
    recovery_key = _confirm_recovery(browser, wrong_first=True)
    assert recovery_key == shown
    _until(browser, lambda: _visible(browser, "inbox-panel"))
    assert browser.find_element(By.ID, "recovery-key").text == ""
    published = api.keys_of(anna.id)["current"]
    assert published is not None
    assert published["fingerprint"]

    # 2. compose: find Bram by e-mail, no TLP chosen is refused, then an attachment
    browser.find_element(By.CSS_SELECTOR, "a[data-nav=compose]").click()
    _until(browser, lambda: _visible(browser, "compose-panel"))
    browser.find_element(By.ID, "find-person").send_keys(bram.email)
    browser.find_element(By.ID, "add-person").click()
    _until(browser, lambda: bram.display_name in browser.find_element(By.ID, "recipients").text)
    assert "unverified" in browser.find_element(By.ID, "recipients").text
    assert not browser.find_elements(By.CSS_SELECTOR, "input[name=tlp]:checked")
    browser.find_element(By.ID, "compose-subject").send_keys("Intake maandag")
    browser.find_element(By.ID, "compose-body").send_keys(f"Dossier {MARKER}, graag bellen.")
    attachment = os.urandom(150_000) + MARKER.encode()  # three secretstream chunks
    files = tmp_path_factory.mktemp("own-files")  # outside the server's data directory
    path = files / "verslag.bin"
    path.write_bytes(attachment)
    browser.find_element(By.ID, "compose-files").send_keys(str(path))
    browser.find_element(By.ID, "compose-send").click()
    _until(browser, lambda: "TLP" in _problem(browser))
    assert api.messages().messages == ()
    browser.find_element(By.CSS_SELECTOR, "input[name=tlp][value='TLP:AMBER']").click()
    browser.find_element(By.ID, "compose-send").click()
    _until(browser, lambda: _visible(browser, "thread-panel"))
    _until(browser, lambda: MARKER in browser.find_element(By.ID, "thread-messages").text)
    bars = browser.find_elements(By.CSS_SELECTOR, "#compose-progress progress")
    assert len(bars) == 2  # encrypting, then uploading, each shown
    assert all(b.get_attribute("value") == b.get_attribute("max") for b in bars)

    # 3. Python reads it, attachment bytes included, and sends a receipt and a reply
    inbox = api.messages().messages
    assert len(inbox) == 1
    copy = api.message(inbox[0].id)
    header_sender = copy.sender
    from liaison_client.envelope import parse_envelope

    parsed = parse_envelope(copy.envelope)
    anna_key = _sender_key(api, header_sender, parsed.header["sender_key"])
    opened = open_message(copy.envelope, bram_identity, anna_key)
    assert opened.body["tlp"] == "TLP:AMBER"
    assert opened.body["subject"] == "Intake maandag"
    assert MARKER in opened.body["body"]
    [manifest] = opened.body["attachments"]
    assert manifest["name"] == "verslag.bin"
    assert manifest["size"] == len(attachment)
    target = files / "received.bin"
    with api.download_blob(manifest["blob"]) as (stream, length):
        assert decrypt_to_file(stream, length, manifest, target) == len(attachment)
    assert target.read_bytes() == attachment
    api.mark_read(copy.id)
    receipt = seal(bram_identity, [anna_key], {"receipt_for": copy.id, "hh": b64(opened.hh),
                   "status": "read"}, kind="receipt", thread=copy.thread)  # fmt: skip
    api.post_message(receipt.to_json())

    reply_bytes = b"antwoord-bijlage " + REPLY_MARKER.encode() + os.urandom(70_000)
    (files / "antwoord.txt").write_bytes(reply_bytes)
    blob_id = str(uuid.uuid4())
    reply_manifest = encrypt_file(files / "antwoord.txt", files / "antwoord.blob", blob_id)
    blob = (files / "antwoord.blob").read_bytes()
    api.upload_blob(blob_id, iter([blob]), len(blob))
    reply = seal(bram_identity, [anna_key], {
        "tlp": "TLP:RED", "subject": "Re: Intake maandag", "body": f"Akkoord {REPLY_MARKER}",
        "form": None, "attachments": [reply_manifest], "prev": b64(opened.hh),
    }, thread=copy.thread)  # fmt: skip
    api.post_message(reply.to_json(), [blob_id])

    # 4. the browser reads the reply: inbox (unread), thread, TLP, attachment, receipt
    browser.find_element(By.CSS_SELECTOR, "a[data-nav=inbox]").click()
    _until(browser, lambda: "Re: Intake maandag" in browser.find_element(By.ID, "inbox-list").text)
    row = browser.find_element(By.CSS_SELECTOR, "#inbox-list li.unread")
    assert "TLP:RED" in row.text
    row.find_element(By.CSS_SELECTOR, "a.subject").click()
    _until(browser, lambda: REPLY_MARKER in browser.find_element(By.ID, "thread-messages").text)
    thread_text = browser.find_element(By.ID, "thread-messages").text
    assert thread_text.count("TLP:") >= 2  # shown on every message
    assert f"Read by: {bram.display_name}" in thread_text
    reply_item = browser.find_element(By.ID, f"message-{reply.header['id']}")
    assert not reply_item.find_elements(By.CSS_SELECTOR, "button.forward")  # TLP:RED
    assert "cannot be forwarded" in reply_item.text
    reply_item.find_element(By.CSS_SELECTOR, ".attachment button").click()
    _until(browser, lambda: reply_item.find_elements(By.CSS_SELECTOR, ".attachment a.saved"))
    saved = reply_item.find_element(By.CSS_SELECTOR, ".attachment a.saved")
    assert saved.get_attribute("download") == "antwoord.txt"
    assert saved.get_attribute("data-size") == str(len(reply_bytes))  # size and hash checked
    _until(browser, lambda: api.message(reply.header["id"]).recipients[0].read_at)

    # the browser answers in the same thread, chained to the reply; Python opens it
    browser.find_element(By.ID, "thread-reply").click()
    _until(browser, lambda: bram.display_name in browser.find_element(By.ID, "recipients").text)
    assert browser.find_element(By.ID, "compose-subject").get_attribute("value") == (
        "Re: Intake maandag"
    )
    browser.find_element(By.CSS_SELECTOR, "input[name=tlp][value='TLP:RED']").click()
    browser.find_element(By.ID, "compose-body").send_keys("Tot maandag.")
    browser.find_element(By.ID, "compose-send").click()
    _until(browser, lambda: "Tot maandag." in browser.find_element(By.ID, "thread-messages").text)
    answer = next(m for m in api.messages().messages if m.kind == "message" and m.id != copy.id)
    assert answer.thread == copy.thread
    third = open_message(api.message(answer.id).envelope, bram_identity, anna_key)
    assert third.body["prev"] == b64(reply.hh)
    assert third.body["tlp"] == "TLP:RED"

    # 5. locked (a new page of the same session stays unlocked): unlock with the recovery key
    # (as on another browser)
    browser.get(live_server.url + "/messages")
    _until(browser, lambda: _visible(browser, "lock-keys"))
    browser.find_element(By.ID, "lock-keys").click()
    _until(browser, lambda: _visible(browser, "unlock-panel"))
    browser.find_element(By.ID, "unlock-secret").send_keys("not the passphrase at all")
    browser.find_element(By.CSS_SELECTOR, "#unlock-form button[type=submit]").click()
    _until(browser, lambda: "not right" in _problem(browser))
    field = browser.find_element(By.ID, "unlock-secret")
    field.clear()
    last = recovery_key[-1]
    field.send_keys(recovery_key[:-1] + ("0" if last != "0" else "1"))  # one typo
    browser.find_element(By.CSS_SELECTOR, "#unlock-form button[type=submit]").click()
    _until(browser, lambda: "typo" in _problem(browser))
    field = browser.find_element(By.ID, "unlock-secret")
    field.clear()
    field.send_keys(recovery_key.lower().replace("-", " "))  # case and separators do not matter
    browser.find_element(By.CSS_SELECTOR, "#unlock-form button[type=submit]").click()
    _until(browser, lambda: "Re: Intake maandag" in browser.find_element(By.ID, "inbox-list").text)

    # 6. the plaintext stayed in the page
    storage = _browser_storage(browser)
    for marker in (MARKER, REPLY_MARKER, PASSPHRASE, recovery_key):
        assert marker not in storage
        assert marker not in browser.current_url
    assert "sign_sk" not in storage
    assert "box_sk" not in storage
    dump = _database_dump(db_session)
    for secret in (MARKER, REPLY_MARKER, PASSPHRASE):
        assert secret not in dump
    # the server's data directory (blob store, logs, search index) and Chromium's profile
    for file in Path(settings.data_dir).rglob("*"):
        if file.is_file():
            data = file.read_bytes()
            assert MARKER.encode() not in data, file
            assert REPLY_MARKER.encode() not in data, file


def _database_dump(session: Session) -> str:
    session.expire_all()
    parts = []
    for table in Base.metadata.sorted_tables:
        parts.extend(repr(row) for row in session.execute(table.select()))
    return "\n".join(parts)
