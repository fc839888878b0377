"""Remote HTML as it is stored (app/services/remote_html.py): what a post from another server
may keep, and what it loses."""
from __future__ import annotations

import pytest

from app.services.remote_html import plain, sanitize


def test_scripts_handlers_and_foreign_classes_go():
    kept = sanitize('<p class="x-red h-entry" onclick="steal()">hi<script>alert(1)</script>'
                    '<img src=x onerror=alert(1)><span class="invisible">https://</span></p>')
    assert kept == '<p class="h-entry">hi<span class="invisible">https://</span></p>'


@pytest.mark.parametrize("href", ["/oauth/authorize?client_id=x", "//evil.example/x", "relative/path",
                                  "javascript:alert(1)", "data:text/html,<b>x</b>", " /x"])
def test_links_keep_only_absolute_addresses_of_allowed_schemes(href):
    kept = sanitize(f'<a href="{href}">link</a>')
    assert "href" not in kept and ">link</a>" in kept


def test_absolute_links_get_rel_and_target():
    assert sanitize('<a href="https://example.org/a">a</a>') == (
        '<a href="https://example.org/a" target="_blank" rel="nofollow noopener noreferrer">a</a>')


def test_plain_text_has_no_markup_and_decoded_entities():
    assert plain("<b>Alice</b> &amp; <i>Bob</i><script>x</script>") == "Alice & Bob"
