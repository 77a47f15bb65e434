def test_chromium_renders_the_error_page_with_security_headers(live_server, browser):
    browser.get(live_server.url + "/no-such-page")
    assert "Not found" in browser.page_source
