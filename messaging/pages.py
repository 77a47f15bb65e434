"""Messaging pages under /messages: shells the browser client fills in (it decrypts in the page)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, make_response, render_template
from flask_login import current_user, login_required
from markupsafe import Markup

from core.i18n import gettext as _
from core.web import settings
from messaging.refusals import refusal_texts

pages = Blueprint("messaging", __name__, url_prefix="/messages")


def ui_strings() -> dict[str, Any]:
    """Every string the browser client builds itself, in the person's language."""
    return {
        "loading": _("Loading the encryption library…"),
        "locked": _("Your keys are locked. Unlock them to read and send messages."),
        "unlocking": _("Unlocking… this takes a few seconds."),
        "unlocked": _("Your keys stay unlocked until you sign out or lock them."),
        "wrongSecret": _("The key passphrase or recovery key is not right."),
        "rollback": _(
            "The server offered an older key backup than this browser saw before. "
            "Your keys were not unlocked; tell the secretariat."
        ),
        "noKeys": _("You have no encryption keys yet. Set them up first."),
        "passphraseShort": _("Choose a key passphrase of at least 12 characters."),
        "passphraseMismatch": _("The two key passphrases differ."),
        "generating": _("Creating your keys… this takes a few seconds."),
        "recoveryShown": _(
            "This is your recovery key. Write it down and keep it safe: it is shown only once."
        ),
        "confirmSaved": _("Confirm that you saved the recovery key."),
        "setupDone": _("Your keys are set up and unlocked."),
        "rotated": _("Your new key is in use. Older messages stay readable."),
        "inboxEmpty": _("No messages."),
        "unread": _("Unread"),
        "read": _("Read"),
        "from": _("From"),
        "to": _("To"),
        "you": _("you"),
        "more": _("Older messages"),
        "cannotOpen": _("This message could not be opened safely and is not shown."),
        "sending": _("Encrypting and sending…"),
        "sent": _("Message sent."),
        "sendFailed": _("The message was not sent."),
        "chooseTlp": _("Choose a TLP marking."),
        "chooseRecipient": _("Choose at least one recipient."),
        "noRecipientKey": _("This person has no encryption key yet and cannot receive messages."),
        "notFound": _("No one found."),
        "keyChanged": _(
            "The key of this person changed since you last wrote to them. "
            "Acknowledge the change before sending."
        ),
        "acknowledge": _("Acknowledge the new key"),
        "remove": _("Remove"),
        "encrypting": _("Encrypting attachment"),
        "uploading": _("Uploading attachment"),
        "attachmentFailed": _("The attachment does not match what the message names; not saved."),
        "download": _("Download and decrypt"),
        "decrypting": _("Decrypting attachment"),
        "readBy": _("Read by"),
        "notReadYet": _("Not read yet"),
        "reply": _("Reply"),
        "forward": _("Forward"),
        "redNoForward": _("TLP:RED messages cannot be forwarded."),
        "forwardTlp": _("A forwarded message keeps at least the TLP marking of the original."),
        "trust.unverified": _("unverified"),
        "trust.secretariat": _("verified by the secretariat"),
        "trust.inPerson": _("verified in person"),
        "markVerified": _("Mark as verified in person"),
        "verifiedSaved": _("Marked as verified in person on this browser."),
        "safetyNumbers": _("Safety numbers"),
        "error": _("Something went wrong. Try again."),
        "rateLimited": _("Too many requests. Wait a minute and try again."),
        "noReferral": _(
            "Referrals are sent for an organisation you belong to, and you belong to none. "
            "Write a message instead, or ask the secretariat to add you to your organisation."
        ),
        "refusals": refusal_texts(),
        "recoveryGroup": _("Group {n}"),
        "recoveryGroupsWrong": _(
            "These are not the groups asked for. Check what you saved: the key is shown only now."
        ),
        "recoveryTypo": _(
            "This recovery key has a typo (its check does not match). Compare it with what you "
            "saved, group by group."
        ),
        "recoveryFileTitle": _("Liaison recovery key"),
        "recoveryFileText": _(
            "It unlocks your encrypted messages if you forget your key passphrase. Keep it "
            "somewhere safe, away from your computer. Case and dashes do not matter when you "
            "type it back."
        ),
    }


def _render(view: str, **context: Any) -> Response:
    strings = json.dumps(ui_strings(), ensure_ascii=False).replace("</", "<\\/")
    response = make_response(
        render_template(
            "messaging/app.html",
            view=view,
            strings_json=Markup(strings),  # noqa: S704 - JSON with "</" escaped
            me=current_user,
            root_public_key=settings().attestation_root_public_key,
            **context,
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@pages.get("")
@login_required
def inbox() -> Response:
    """The inbox: the list of messages, decrypted in the page."""
    return _render("inbox")


@pages.get("/keys")
@login_required
def keys() -> Response:
    """Set up, unlock and rotate the encryption keys."""
    return _render("keys")


@pages.get("/compose")
@login_required
def compose() -> Response:
    """Write a new message."""
    return _render("compose")


@pages.get("/threads/<uuid:thread_id>")
@login_required
def thread(thread_id: Any) -> Response:
    """The messages of one thread."""
    return _render("thread", item=str(thread_id))


@pages.get("/people/<uuid:user_id>")
@login_required
def person(user_id: Any) -> Response:
    """A person's key, trust and safety number."""
    return _render("person", item=str(user_id))
