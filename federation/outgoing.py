"""Outgoing HTTP to other servers, refusing private and loopback addresses.

    async with outgoing.client(timeout=httpx.Timeout(10, connect=5), max_redirects=3) as http:
        response = await http.get(url)

Exceptions (all are httpx.RequestError, so `except httpx.HTTPError` catches every failure):

    httpx.RequestError
      └── BlockedAddress      the URL is not one we may fetch: not http(s), user:password@ in it,
                              or its host is (or resolves to) a private, loopback, link-local,
                              multicast or otherwise non-public address

Every request the client sends passes the check, redirects included (httpx sends each hop
through the transport). `settings.allow_private_addresses` lifts the address rule (several
instances on one private network); the scheme and credentials rules always hold.

The network is `settings.http_transport` when set (tests install an httpx.MockTransport: the
mock then answers for every host name, so names are not resolved, only literal addresses and
`localhost` are checked), real connections otherwise. A host name is resolved and checked just
before the connection, which resolves it again: a hostile DNS server answering differently
within that instant (rebinding) is not stopped here. See docs/preview_cards.md.
"""
from __future__ import annotations

import asyncio
import ipaddress
import socket
from importlib.metadata import PackageNotFoundError, version

import httpx

from app.config import get_settings

SCHEMES = ("http", "https")


class BlockedAddress(httpx.RequestError):
    """A URL we refuse to fetch (see the module docstring)."""


def public_ip(address: str) -> bool:
    """Is this address on the public internet? (The one rule for every outgoing request.)"""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone index
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _literal_ip(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def check_url(url: httpx.URL, *, allow_private: bool) -> None:
    """The checks that need no DNS: scheme, credentials, literal addresses, localhost names."""
    if url.scheme not in SCHEMES:
        raise BlockedAddress(f"not an http(s) URL: {url.scheme or 'no scheme'}")
    if url.userinfo:
        raise BlockedAddress("URLs with credentials are not fetched")
    host = url.host.lower().rstrip(".")
    if not host:
        raise BlockedAddress("URL without a host")
    if allow_private:
        return
    literal = _literal_ip(host)
    if literal is not None and not public_ip(literal):
        raise BlockedAddress(f"{host} is not a public address")
    if host == "localhost" or host.endswith(".localhost"):
        raise BlockedAddress(f"{host} is not a public address")


async def check_resolved(host: str, port: int) -> None:
    """Every address the host name resolves to must be public."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise httpx.ConnectError(f"cannot resolve {host}: {error}") from error
    for info in infos:
        if not public_ip(info[4][0]):
            raise BlockedAddress(f"{host} resolves to a non-public address")


class PublicOnlyTransport(httpx.AsyncBaseTransport):
    """Checks each request's URL (and, on the real network, its resolved addresses) first."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *, allow_private: bool, resolve: bool):
        self.inner = inner
        self.allow_private = allow_private
        self.resolve = resolve

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            check_url(request.url, allow_private=self.allow_private)
        except BlockedAddress as error:
            error.request = request
            raise
        if self.resolve and not self.allow_private and _literal_ip(request.url.host) is None:
            port = request.url.port or (443 if request.url.scheme == "https" else 80)
            try:
                await check_resolved(request.url.host, port)
            except httpx.RequestError as error:
                error.request = request
                raise
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def user_agent() -> str:
    try:
        release = version("starling")
    except PackageNotFoundError:
        release = "0.0.0"
    return f"Starling/{release} (+{get_settings().base_url}/)"


def client(*, timeout: httpx.Timeout, max_redirects: int) -> httpx.AsyncClient:
    """An httpx client on the configured network that only reaches public addresses.
    Environment proxies are ignored: the address check must see the real destination."""
    settings = get_settings()
    injected = settings.http_transport
    transport = PublicOnlyTransport(injected or httpx.AsyncHTTPTransport(),
                                    allow_private=settings.allow_private_addresses, resolve=injected is None)
    return httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=True,
                             max_redirects=max_redirects, trust_env=False,
                             headers={"User-Agent": user_agent()})
