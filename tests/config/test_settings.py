import pytest

from config import ConfigError, load_settings


def test_embedded_default_needs_no_variable_and_writes_under_data_dir(tmp_path):
    settings = load_settings(environ={"LIAISON_DATA_DIR": str(tmp_path / "one")})
    assert settings.database_url == f"sqlite:///{tmp_path / 'one' / 'liaison.db'}"
    assert (tmp_path / "one" / "secret_key").exists()
    again = load_settings(environ={"LIAISON_DATA_DIR": str(tmp_path / "one")})
    assert again.secret_key == settings.secret_key


def test_two_instances_side_by_side_have_their_own_secrets(tmp_path):
    one = load_settings(environ={"LIAISON_DATA_DIR": str(tmp_path / "one")})
    two = load_settings(environ={"LIAISON_DATA_DIR": str(tmp_path / "two")})
    assert one.secret_key != two.secret_key
    assert one.database_url != two.database_url


def test_unknown_liaison_variable_is_rejected(tmp_path):
    with pytest.raises(ConfigError, match="LIAISON_SEARCH_BACKEN"):
        load_settings(environ={"LIAISON_DATA_DIR": str(tmp_path), "LIAISON_SEARCH_BACKEN": "x"})


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"LIAISON_DATABASE_URL": "postgresql://db/liaison"}, "LIAISON_SECRET_KEY"),
        (
            {"LIAISON_DATABASE_URL": "postgresql://db/liaison", "LIAISON_SECRET_KEY": "change-me"},
            "LIAISON_SECRET_KEY",
        ),
        ({"LIAISON_SECRET_KEY": "x" * 40}, "LIAISON_DATABASE_URL"),
    ],
)
def test_production_refuses_to_start_without_real_secrets(tmp_path, variables, message):
    environ = {"LIAISON_ENV": "production", "LIAISON_DATA_DIR": str(tmp_path), **variables}
    with pytest.raises(ConfigError, match=message):
        load_settings(environ=environ)


SAFE_PRODUCTION = {
    "LIAISON_ENV": "production",
    "LIAISON_DATABASE_URL": "postgresql://liaison@db.internal/liaison",
    "LIAISON_SECRET_KEY": "k" * 48,
    "LIAISON_BASE_URL": "https://liaison.benelux.example",
    "LIAISON_SMTP_HOST": "smtp.benelux.example",
}


def test_production_starts_with_safe_settings(tmp_path):
    settings = load_settings(environ={**SAFE_PRODUCTION, "LIAISON_DATA_DIR": str(tmp_path)})
    assert settings.production
    assert settings.secure_cookies


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LIAISON_DATABASE_URL", "sqlite:////var/lib/liaison/liaison.db"),
        ("LIAISON_BASE_URL", "http://127.0.0.1:5000"),
        ("LIAISON_BASE_URL", "http://liaison.benelux.example"),
        ("LIAISON_BASE_URL", "https://localhost"),
        ("LIAISON_BASE_URL", "https://127.0.0.1:8443"),
        ("LIAISON_BASE_URL", "https://[::1]/"),
        ("LIAISON_BASE_URL", "https://0.0.0.0"),
        ("LIAISON_BASE_URL", "liaison.benelux.example"),
        ("LIAISON_SECURE_COOKIES", "false"),
        ("LIAISON_SMTP_HOST", ""),
    ],
)
def test_production_refuses_each_unsafe_setting_by_name(tmp_path, name, value):
    environ = {**SAFE_PRODUCTION, "LIAISON_DATA_DIR": str(tmp_path), name: value}
    with pytest.raises(ConfigError, match=name):
        load_settings(environ=environ)


def test_production_refuses_a_missing_smtp_host_even_without_the_local_sink(tmp_path):
    environ = {**SAFE_PRODUCTION, "LIAISON_DATA_DIR": str(tmp_path), "LIAISON_MAIL_SINK": "false"}
    del environ["LIAISON_SMTP_HOST"]
    with pytest.raises(ConfigError, match="LIAISON_SMTP_HOST"):
        load_settings(environ=environ)


def test_development_keeps_its_laptop_defaults(tmp_path):
    settings = load_settings(environ={"LIAISON_DATA_DIR": str(tmp_path)})
    assert settings.sqlite
    assert settings.base_url == "http://127.0.0.1:5000"


def test_log_format_must_be_text_or_json(tmp_path):
    with pytest.raises(ConfigError, match="LIAISON_LOG_FORMAT"):
        load_settings(environ={"LIAISON_DATA_DIR": str(tmp_path), "LIAISON_LOG_FORMAT": "xml"})


@pytest.mark.parametrize(
    ("name", "value"),
    [("LIAISON_SESSION_IDLE_MINUTES", "half an hour"), ("LIAISON_SECURE_COOKIES", "maybe")],
)
def test_malformed_values_are_named(tmp_path, name, value):
    with pytest.raises(ConfigError, match=name):
        load_settings(environ={"LIAISON_DATA_DIR": str(tmp_path), name: value})


def test_readme_configuration_table_names_every_setting():
    import dataclasses
    from pathlib import Path

    from config import Settings

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    missing = [
        f"LIAISON_{f.name.upper()}"
        for f in dataclasses.fields(Settings)
        if f"LIAISON_{f.name.upper()}" not in readme
    ]
    assert missing == []
