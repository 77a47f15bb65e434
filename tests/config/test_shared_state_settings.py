"""Settings of the state several hosts share: the blob store, the web hosts, the key-log key."""

import base64

import pytest

from config import ConfigError, load_settings

PRODUCTION = {
    "LIAISON_ENV": "production",
    "LIAISON_DATABASE_URL": "postgresql://liaison@db/liaison",
    "LIAISON_SECRET_KEY": "s" * 48,
    "LIAISON_SMTP_HOST": "smtp.example.org",
    "LIAISON_BASE_URL": "https://liaison.example.org",
}


def test_production_refuses_a_filesystem_blob_store_declared_shared_by_several_hosts(tmp_path):
    environ = {
        **PRODUCTION,
        "LIAISON_DATA_DIR": str(tmp_path),
        "LIAISON_BLOB_STORE": "filesystem",
        "LIAISON_WEB_HOSTS": "3",
    }

    with pytest.raises(ConfigError, match="LIAISON_WEB_HOSTS=3") as refused:
        load_settings(environ=environ)

    assert "LIAISON_BLOB_STORE" in str(refused.value)


@pytest.mark.parametrize(
    ("store", "hosts", "kind"),
    [("auto", "3", "database"), ("database", "2", "database"), ("filesystem", "1", "filesystem")],
)
def test_production_accepts_a_blob_store_every_host_can_reach(tmp_path, store, hosts, kind):
    environ = {
        **PRODUCTION,
        "LIAISON_DATA_DIR": str(tmp_path),
        "LIAISON_BLOB_STORE": store,
        "LIAISON_WEB_HOSTS": hosts,
    }

    assert load_settings(environ=environ).blob_store_kind == kind


def test_the_embedded_default_keeps_blobs_on_disk_and_postgresql_in_the_database(tmp_path):
    embedded = load_settings(environ={"LIAISON_DATA_DIR": str(tmp_path)})
    on_postgresql = load_settings(
        environ={
            "LIAISON_DATA_DIR": str(tmp_path),
            "LIAISON_DATABASE_URL": "postgresql://liaison@db/liaison",
        }
    )

    assert (embedded.blob_store_kind, on_postgresql.blob_store_kind) == ("filesystem", "database")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LIAISON_BLOB_STORE", "s3"),
        ("LIAISON_WEB_HOSTS", "0"),
        ("LIAISON_KEY_LOG_SIGNING_KEY", "not a key"),
        ("LIAISON_KEY_LOG_SIGNING_KEY", base64.urlsafe_b64encode(bytes(31)).decode()),
    ],
)
def test_malformed_shared_state_settings_are_named(tmp_path, name, value):
    with pytest.raises(ConfigError, match=name):
        load_settings(environ={"LIAISON_DATA_DIR": str(tmp_path), name: value})
