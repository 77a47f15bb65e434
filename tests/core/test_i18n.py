"""Interface language: values are escaped exactly once, and the chosen language sticks."""

from flask import render_template_string

from core.i18n import gettext


def test_template_translation_escapes_interpolated_values_once(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        html = render_template_string(
            "{{ _('Welcome, %(name)s', name=name) }}", name="Droits de l'Homme <b>&</b>"
        )
    assert html == "Welcome, Droits de l&#39;Homme &lt;b&gt;&amp;&lt;/b&gt;"


def test_view_translation_returns_plain_text_for_later_escaping(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert gettext("Welcome, %(name)s", name="l'Homme & co") == "Welcome, l'Homme & co"


def test_language_choice_is_remembered_across_requests(client):
    response = client.get("/", headers={"Accept-Language": "de"})
    assert response.status_code == 200
    page = client.get("/")
    csrf = page.data.split(b'name="csrf_token" value="')[1].split(b'"')[0].decode()
    client.post("/language", data={"locale": "fr", "next": "/", "csrf_token": csrf})
    assert 'lang="fr"' in client.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)


def test_language_switch_refuses_to_redirect_off_site(client):
    page = client.get("/")
    csrf = page.data.split(b'name="csrf_token" value="')[1].split(b'"')[0].decode()
    response = client.post(
        "/language", data={"locale": "nl", "next": "//evil.example/", "csrf_token": csrf}
    )
    assert response.headers["Location"] == "/"
