"""What each refusal of the relay means to the person in the browser, and what to do about it.

The relay names the failed check in every refusal (``check`` in the JSON body, see
``messaging.errors``); the messaging page gets these texts, translated, and shows the one of the
check instead of a generic error. ``tests/messaging/test_refusals.py`` finds every check name the
server code can raise and fails when one is missing here.
"""

from __future__ import annotations

from core.i18n import gettext

# check name -> English msgid (translated in web/translations/*/slips.po)
REFUSALS: dict[str, str] = {
    "malformed": (
        "Liaison could not read what this page sent. Reload the page and try again; if it "
        "happens again, tell the secretariat."
    ),
    "unsupported-version": ("This page is out of date. Reload it and try again."),
    "forbidden": (
        "You are not allowed to do this. If you think you should be, ask the secretariat."
    ),
    "rejected": (
        "Liaison refused this because it breaks one of its rules. Reload the page and try again."
    ),
    "conflict": ("Something changed in the meantime. Reload the page and try again."),
    "not-found": ("This no longer exists, or you may not see it. Reload the page."),
    "too-large": ("This is larger than Liaison accepts. Send fewer or smaller attachments."),
    "rate-limited": ("Too many requests. Wait a minute and try again."),
    "not-signed-in": (
        "You are no longer signed in. Sign in again in another tab (so as not to lose what you "
        "wrote here), then try again."
    ),
    "storage-full": (
        "Liaison's storage is full, so nothing new can be stored. Try again later, and tell the"
        " secretariat."
    ),
    "database-unavailable": (
        "Liaison cannot reach its database right now. Wait a few minutes and try again."
    ),
    "network": ("The connection to Liaison was lost. Check your connection and try again."),
    "bad-transition": (
        "This referral's status changed in the meantime. Reload the page to see where it stands."
    ),
    "wrong-sender": (
        "This message is not sealed by the person signed in. Reload the page, unlock your keys "
        "and send again."
    ),
    "stale-sender-key": (
        "Your keys changed since this page unlocked them. Reload the page, unlock your keys and"
        " send again."
    ),
    "unknown-recipient": (
        "One of the recipients can no longer receive messages (the account is gone or "
        "disabled). Remove them and send again."
    ),
    "missing-wrap": (
        "The message was not encrypted for exactly its recipients. Reload the page and send again."
    ),
    "stale-recipient-key": (
        "A recipient's key changed since you chose them. Remove them, add them again, check the"
        " new key, and send again."
    ),
    "bad-signature": (
        "The signature does not verify. Reload the page, unlock your keys and try again."
    ),
    "expired": ("The message's expiry date has already passed. Choose a later date."),
    "expiry-too-late": ("The expiry date is later than Liaison allows. Choose an earlier date."),
    "id-conflict": (
        "Another message with the same id already exists. Reload the page and send again."
    ),
    "recipient-cannot-receive": (
        "One of the recipients cannot receive messages yet (they have no key). Remove them, or "
        "ask them to set up their keys first."
    ),
    "referral-required": (
        "The page sent the referral incompletely. Reload the page and send it again."
    ),
    "unknown-blob": (
        "An attachment is no longer on the server (it expired or its upload failed). Remove it,"
        " add it again and send."
    ),
    "blob-id-conflict": ("An attachment's upload clashed with another one. Send again."),
    "bad-receipt": (
        "The read receipt could not be sent; nothing else is affected. Reload the page if it "
        "keeps happening."
    ),
    "unknown-organisation": (
        "This organisation is not in the directory, or you may not see it. Choose another "
        "organisation."
    ),
    "bad-referral": (
        "The referral's urgency or sending organisation is not valid. Check them and send again."
    ),
    "same-organisation": (
        "A referral goes to another organisation than the one sending it. Choose another "
        "receiving organisation, or send for another of your organisations."
    ),
    "bad-status": (
        "This change of status is not possible for this referral. Reload the page to see what "
        "you can do."
    ),
    "bad-redirect": (
        "The referral cannot be passed on to that organisation. Choose another organisation "
        "that accepts cross-border referrals."
    ),
    "bad-box": ("This list does not exist. Reload the page."),
    "backup-weak-kdf": (
        "The key backup is protected too weakly. Reload the page and set up your keys again."
    ),
    "backup-user": (
        "This key backup belongs to another account. Sign out, sign in as yourself and try again."
    ),
    "backup-rollback": (
        "A newer key backup exists than this page knows. Reload the page and unlock your keys "
        "again."
    ),
    "bad-publication-signature": (
        "Your new key could not be published (its signature does not verify). Reload the page "
        "and set up your keys again."
    ),
    "key-id-mismatch": (
        "Your new key could not be published (its id does not match). Reload the page and set "
        "up your keys again."
    ),
    "bad-revocation": (
        "The key could not be revoked (the revocation is not signed correctly). Reload the "
        "page, unlock your keys and try again."
    ),
    "key-reused": ("This key was published before and cannot be used again. Create new keys."),
    "key-log-busy": ("The key directory is busy. Wait a few seconds and try again."),
    "from-org-required": (
        "Choose the organisation you send this referral for. If you belong to no organisation, "
        "you cannot send referrals: write a message instead."
    ),
    "not-your-organisation": (
        "You can only send a referral for an organisation you belong to. Choose one of yours."
    ),
    "no-to-org": ("Choose the organisation that should receive this referral."),
    "not-a-contact-point": (
        "A referral goes only to the contact points of the receiving organisation. Remove the "
        "other recipients."
    ),
    "not-a-receiving-contact-point": (
        "Only a contact point of the receiving organisation can do this. Ask one of them."
    ),
    "organisation-not-accepting": (
        "This organisation does not accept cross-border referrals. Choose another organisation,"
        " or write it a message."
    ),
}
# Checks whose meaning for the person is the same as another one's.
SAME_AS: dict[str, str] = {
    "extra-wrap": "missing-wrap",
    "unexpected-referral": "referral-required",
}


def refusal_texts() -> dict[str, str]:
    """Every check name with its explanation in the reader's language (for the page's JSON)."""
    texts = {check: gettext(text) for check, text in REFUSALS.items()}
    texts.update({check: texts[same] for check, same in SAME_AS.items()})
    return texts
