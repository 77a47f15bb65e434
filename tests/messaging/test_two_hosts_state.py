"""Two web hosts, one PostgreSQL database: nothing a second host needs lives only on the first
host's disk. Each host has its own data dir; they share the database alone."""

from __future__ import annotations

import uuid

import pytest
from liaison_client.encoding import unb64
from liaison_client.keylog import parse_signed_head

from accounts.api_tokens import issue_token
from core.app import close_app, create_app
from tests.conftest import PG_URL
from tests.messaging.conftest import publication

pytestmark = pytest.mark.skipif(
    not PG_URL,
    reason="two hosts share one PostgreSQL database (set LIAISON_TEST_DATABASE_URL); "
    "the embedded SQLite default is one host by design",
)


@pytest.fixture
def second_host(settings, tmp_path):
    """A second app instance: its own data dir, the same database, the same configuration."""
    application = create_app(settings.replace(data_dir=tmp_path / "host-b"))
    application.config["TESTING"] = True
    yield application
    close_app(application)


@pytest.fixture
def bearer(settings, db_session):
    """A bearer token for a person, usable on either host."""

    def make(person) -> dict[str, str]:
        token, _row = issue_token(db_session, person.user, settings)
        db_session.commit()
        return {"Authorization": f"Bearer {token}"}

    return make


def test_both_hosts_serve_one_log_key_and_one_signed_head(
    app, second_host, make_person, bearer, tmp_path
):
    anna = make_person()  # publishes her key through the first host
    bram = make_person(publish=False)
    on_b = second_host.test_client()
    published = on_b.post(
        "/api/v1/keys", json=publication(bram.identity), headers=bearer(bram)
    )  # and Bram through the second

    head_a = anna.get("/api/v1/key-log/head").get_json()
    head_b = on_b.get("/api/v1/key-log/head", headers=bearer(anna)).get_json()

    assert published.status_code == 201
    assert head_a == head_b
    assert head_a["head"]["seq"] == 2
    # Every entry, whichever host appended it, verifies against the one log key.
    entries = on_b.get("/api/v1/key-log", headers=bearer(anna)).get_json()["entries"]
    log_pk = unb64(head_a["log_pk"], 32, "log key")
    assert [parse_signed_head(e["signed_head"], log_pk).seq for e in entries] == [1, 2]
    assert not (tmp_path / "key-log.key").exists()
    assert not (tmp_path / "host-b" / "key-log.key").exists()


def test_a_blob_uploaded_through_one_host_downloads_through_the_other(
    second_host, make_person, bearer, settings
):
    anna = make_person()
    data = bytes(range(256)) * 5000  # 1.28 MB: more than one chunk
    blob_id = str(uuid.uuid4())

    uploaded = anna.post(f"/api/v1/blobs?id={blob_id}", data=data)
    downloaded = second_host.test_client().get(f"/api/v1/blobs/{blob_id}", headers=bearer(anna))

    assert uploaded.status_code == 201
    assert settings.blob_store_kind == "database"
    assert downloaded.status_code == 200
    assert downloaded.data == data
    assert not (settings.data_dir / "host-b" / "blobs").exists()
