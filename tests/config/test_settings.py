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
