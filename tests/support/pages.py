"""Driving the server's pages as a browser does.

    token = csrf(page)                                   # the form's authenticity token
    response = await submit_form(client, "/auth/sign_up", {"email": ...})

`submit_form` GETs the page (which sets the csrf cookie), then POSTs its form with the
page's hidden fields (the CSRF token and any others) plus `fields`.
"""
from __future__ import annotations

import re

import httpx

_CSRF = re.compile(r'name="authenticity_token" value="([^"]+)"')
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def csrf(page: httpx.Response | str) -> str:
    """The CSRF token of the (first) form on a page or in its HTML."""
    found = _CSRF.search(page if isinstance(page, str) else page.text)
    assert found, "the page has no CSRF field"
    return found.group(1)


async def submit_form(client: httpx.AsyncClient, form_path: str, fields: dict,
                      action: str | None = None) -> httpx.Response:
    page = await client.get(form_path)
    assert page.status_code == 200, page.text
    hidden = dict(_HIDDEN.findall(page.text))
    return await client.post(action or form_path, data={**hidden, **fields})
