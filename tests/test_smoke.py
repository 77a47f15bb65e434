from accounts.models import Role


def test_error_page_for_unknown_path_is_html_without_traceback(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert b"Traceback" not in response.data
    assert "Content-Security-Policy" in response.headers


def test_signed_in_fixture_sets_no_store(client, make_user, sign_in):
    user = make_user(Role.MEMBER)
    sign_in(client, user)
    response = client.get("/no-such-page")
    assert response.headers["Cache-Control"] == "no-store"
