"""The Content-Security-Policy of the HTML pages (tests/browser runs them in Chromium)."""

from __future__ import annotations

import re

import pytest

from tests.support.clients import Client
from tests.support.csp import HTML_PAGES, directives


@pytest.mark.django_db
@pytest.mark.parametrize("path", HTML_PAGES)
def test_each_html_page_has_a_strict_policy(path):
    response = Client().get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy["script-src"] + policy["style-src"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_inline_blocks_of_the_docs_carry_the_nonce_of_their_response(path):
    response = Client().get(path)
    nonces = re.findall(r"'nonce-([^']+)'", response["Content-Security-Policy"])
    assert len(set(nonces)) == 1
    html = response.content.decode()
    inline = re.findall(r"<(script|style)(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline, html
    assert all(f'nonce="{nonces[0]}"' in attributes for _, attributes in inline), inline
    assert Client().get(path)["Content-Security-Policy"] != response["Content-Security-Policy"]
