"""The second factor: codes cannot be replayed, recovery codes work once."""

from datetime import timedelta

import pyotp

from accounts import totp
from accounts.models import RecoveryCode
from core.db import utcnow


def test_code_is_accepted_once_and_never_again(db_session, enrolled):
    user = enrolled()
    code = pyotp.TOTP(user.totp_secret).now()
    assert totp.accept_totp(db_session, user, code)
    db_session.commit()
    assert not totp.accept_totp(db_session, user, code)


def test_code_of_an_earlier_step_is_refused_after_a_later_one(db_session, enrolled):
    user = enrolled()
    generator = pyotp.TOTP(user.totp_secret)
    now = utcnow()
    assert totp.accept_totp(db_session, user, generator.at(now + timedelta(seconds=30)))
    assert not totp.accept_totp(db_session, user, generator.at(now))


def test_one_step_of_clock_drift_is_tolerated_but_not_two(db_session, enrolled):
    user = enrolled()
    generator = pyotp.TOTP(user.totp_secret)
    now = utcnow()
    assert not totp.accept_totp(db_session, user, generator.at(now - timedelta(seconds=75)))
    assert totp.accept_totp(db_session, user, generator.at(now - timedelta(seconds=30)))


def test_malformed_codes_are_refused(db_session, enrolled):
    user = enrolled()
    for code in ("", "12345", "1234567", "abcdef", "12 34 5x"):
        assert not totp.accept_totp(db_session, user, code)


def test_replay_from_a_stale_copy_of_the_account_is_refused(app, db_session, enrolled):
    user = enrolled()
    code = pyotp.TOTP(user.totp_secret).now()
    with app.extensions["liaison.db"].session() as other:
        stale = other.get(type(user), user.id)  # read before the first use, like a parallel request
        assert stale.totp_last_counter is None
        assert totp.accept_totp(db_session, user, code)
        db_session.commit()
        assert not totp.accept_totp(other, stale, code)


def test_recovery_codes_are_ten_stored_hashed_and_single_use(db_session, enrolled):
    user = enrolled()
    codes = totp.new_recovery_codes(db_session, user)
    db_session.commit()
    assert len(set(codes)) == 10
    stored = [row.code_hash for row in db_session.query(RecoveryCode).filter_by(user_id=user.id)]
    assert len(stored) == 10
    assert not any(code in stored for code in codes)
    assert totp.accept_second_factor(db_session, user, codes[3].upper())
    db_session.commit()
    assert not totp.accept_second_factor(db_session, user, codes[3])
    assert totp.remaining_recovery_codes(db_session, user) == 9


def test_new_recovery_codes_replace_the_old_ones(db_session, enrolled):
    user = enrolled()
    old = totp.new_recovery_codes(db_session, user)
    totp.new_recovery_codes(db_session, user)
    db_session.commit()
    assert not totp.accept_second_factor(db_session, user, old[0])


def test_qr_code_is_an_svg_data_uri_of_the_otpauth_link():
    secret = totp.new_secret()
    uri = totp.provisioning_uri(secret, "anna@example.org")
    assert uri.startswith("otpauth://totp/Liaison:anna%40example.org?secret=" + secret)
    assert totp.qr_data_uri(uri).startswith("data:image/svg+xml")
