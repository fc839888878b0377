"""The outgoing HTTP client: every request to another server (ActivityPub documents,
WebFinger, the pages behind links for preview cards) goes through it.

    client = FederationClient(user_agent(settings), signer=instance_actor.signing_key)
    async with client.session() as http:
        document = await http.get_json(url)                  # signed GET, AS2 accept header
        jrd = await http.get_json(webfinger_url, signed=False, accept=JRD)
        page = await http.get(url, accept="text/html", signed=False)   # Fetched: body, type, charset

Every request: an http(s) URL whose host resolves only to public addresses (private,
loopback, link-local and other non-global ones are refused unless `allow_private`), at
most `max_redirects` redirects, each hop checked the same way and signed again, a body of
at most `max_bytes`, and `total_timeout` seconds from the first byte sent to the last one
read. `localhost` and `*.localhost` are refused without asking DNS. The transport
(`httpx.MockTransport` in tests) and the host resolver are injectable; `resolve_host=None`
resolves no names (an injected mock network answers for every name), so only literal
addresses and localhost names are checked then.

A known gap: the address check resolves the name, and httpx resolves it again to connect,
so a DNS server that answers differently the second time (DNS rebinding) is not stopped.

Errors:

    FetchError                 nothing usable came back
    ├── Refused                the destination is not allowed (scheme, private address)
    ├── Unreachable            DNS failure, connection error
    ├── Timeout                a timeout, or the whole exchange took too long
    ├── TooManyRedirects
    ├── TooLarge               the body is larger than max_bytes
    ├── BadStatus              a status other than 2xx (`.status_code`)
    └── NotJson                the body is not a JSON object
"""
from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import AsyncIterator, Awaitable, Callable
from urllib.parse import urljoin, urlsplit

import httpx

from activitypub.signatures import sign_request
from app.config import Settings

AS2_ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
JRD_ACCEPT = "application/jrd+json, application/json"
REDIRECTS = (301, 302, 303, 307, 308)

HostResolver = Callable[[str, int], Awaitable[list[str]]]


class FetchError(Exception):
    """Nothing usable came back from a remote server."""


class Refused(FetchError):
    pass


class Unreachable(FetchError):
    pass


class Timeout(FetchError):
    pass


class TooManyRedirects(FetchError):
    pass


class TooLarge(FetchError):
    pass


class BadStatus(FetchError):
    def __init__(self, url: str, status_code: int):
        super().__init__(f"{url} answered {status_code}")
        self.status_code = status_code


class NotJson(FetchError):
    pass


@dataclass(frozen=True)
class Key:
    key_id: str
    private_key_pem: str


@dataclass(frozen=True)
class Fetched:
    url: str           # after redirects
    status_code: int
    content_type: str  # lower case, parameters dropped
    body: bytes
    charset: str | None = None  # as the Content-Type header declared it


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


NAT64 = ipaddress.ip_network("64:ff9b::/96")  # the well-known prefix: the last 32 bits are IPv4
SITE_LOCAL = ipaddress.ip_network("fec0::/10")  # deprecated, still routed privately by some


def public_ip(address: str) -> bool:
    """Is this address on the public internet? The one address rule for every outgoing request:
    no loopback, private, link-local, carrier-grade NAT, documentation, reserved, unspecified,
    site-local or multicast address. An IPv6 address that carries an IPv4 one (IPv4-mapped,
    IPv4-compatible, 6to4, NAT64) is judged by the IPv4 address it reaches."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone index
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in SITE_LOCAL:
            return False
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip.sixtofour is not None:
            ip = ip.sixtofour
        elif ip in NAT64 or int(ip) >> 32 == 0:  # NAT64; IPv4-compatible ::a.b.c.d (also ::1 and ::)
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.is_global and not ip.is_multicast


def user_agent(settings: Settings) -> str:
    try:
        release = version("starling")
    except PackageNotFoundError:  # running from a checkout that was never installed
        release = "0.0.0"
    return f"Starling/{release} (+{settings.base_url}/)"


class FederationClient:
    def __init__(self, user_agent: str, *, signer: Callable[[], Awaitable[Key]] | None = None,
                 transport: httpx.AsyncBaseTransport | None = None,
                 resolve_host: HostResolver | None = system_resolver,
                 allow_private: bool = False, connect_timeout: float = 5.0, read_timeout: float = 10.0,
                 total_timeout: float = 20.0, max_bytes: int = 1024 * 1024, max_redirects: int = 3):
        self.user_agent = user_agent
        self.signer = signer
        self.transport = transport
        self.resolve_host = resolve_host
        self.allow_private = allow_private
        self.timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        self.total_timeout = total_timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects

    @asynccontextmanager
    async def session(self) -> AsyncIterator["FetchSession"]:
        """One connection pool for a few related requests (a WebFinger lookup and the actor)."""
        # Accept-Encoding identity: a compressed body is inflated a whole chunk at a time before
        # its size can be counted (64 KiB of gzip can become 66 MB), so none is asked for.
        async with httpx.AsyncClient(transport=self.transport, timeout=self.timeout, follow_redirects=False,
                                     headers={"User-Agent": self.user_agent, "Accept-Encoding": "identity"},
                                     trust_env=False) as http:
            yield FetchSession(self, http)

    async def check_destination(self, url: str) -> None:
        """Refused unless `url` is http(s) and its host resolves only to allowed addresses."""
        try:
            parts = urlsplit(url)
        except ValueError:  # e.g. an unclosed IPv6 bracket, here or in a redirect's Location
            raise Refused(f"not a fetchable URL: {url[:200]}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
            raise Refused(f"not a fetchable URL: {url[:200]}")
        if self.allow_private:
            return
        try:
            # The name exactly as httpx will connect to it (IDNA 2008: `faß.example` is
            # `xn--fa-hia.example`, where the resolver's IDNA 2003 would ask for `fass.example`).
            host = httpx.URL(url).raw_host.decode("ascii").rstrip(".").lower()
        except (httpx.InvalidURL, UnicodeError):
            raise Refused(f"not a fetchable URL: {url[:200]}") from None
        if host == "localhost" or host.endswith(".localhost"):
            raise Refused(f"{host} is not a public address")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise Refused(f"bad port in {url[:200]}") from None
        try:
            addresses = [str(ipaddress.ip_address(host.strip("[]")))]
        except ValueError:
            if self.resolve_host is None:
                return  # the injected network answers for every name
            try:
                addresses = await self.resolve_host(host, port)
            except (OSError, UnicodeError) as error:
                raise Unreachable(f"cannot resolve {host}: {error}") from None
        if not addresses:
            raise Unreachable(f"{host} has no address")
        for address in addresses:
            try:
                public = public_ip(address)
            except ValueError:
                public = False
            if not public:
                raise Refused(f"{host} is not a public address" if addresses == [host]
                              else f"{host} resolves to a non-public address")


_UNSET: object = object()


def client_for(settings: Settings, *, signer: Callable[[], Awaitable[Key]] | None = None,
               transport: httpx.AsyncBaseTransport | None = None, resolve_host: object = _UNSET,
               **limits) -> FederationClient:
    """A client on the configured network: real connections and the system resolver, or
    `settings.http_transport` (or `transport`) when one is injected: a mock network answers for
    every name, so names are then not resolved unless `resolve_host` is given."""
    transport = transport if transport is not None else settings.http_transport
    if resolve_host is _UNSET:
        resolve_host = system_resolver if transport is None else None
    return FederationClient(user_agent(settings), signer=signer, transport=transport, resolve_host=resolve_host,
                            allow_private=settings.allow_private_addresses, **limits)


class FetchSession:
    def __init__(self, client: FederationClient, http: httpx.AsyncClient):
        self.client = client
        self.http = http
        self._key: Key | None = None

    async def _signature(self, url: str) -> dict[str, str]:
        if self.client.signer is None:
            return {}
        if self._key is None:
            self._key = await self.client.signer()
        return sign_request("GET", url, self._key.key_id, self._key.private_key_pem)

    async def get(self, url: str, *, accept: str = AS2_ACCEPT, signed: bool = True) -> Fetched:
        """GET `url`, following (checked) redirects. Raises a FetchError subclass."""
        try:
            async with asyncio.timeout(self.client.total_timeout):
                return await self._follow(url, accept, signed)
        except TimeoutError:
            raise Timeout(f"{url[:200]} took too long") from None

    async def _follow(self, url: str, accept: str, signed: bool) -> Fetched:
        for _ in range(self.client.max_redirects + 1):
            await self.client.check_destination(url)
            headers = {"Accept": accept, **(await self._signature(url) if signed else {})}
            try:
                async with self.http.stream("GET", url, headers=headers) as response:
                    if response.status_code in REDIRECTS and response.headers.get("location"):
                        url = urljoin(url, response.headers["location"])
                        continue
                    if not 200 <= response.status_code < 300:
                        raise BadStatus(url, response.status_code)
                    body = await self._read(response)
            except httpx.TimeoutException:
                raise Timeout(f"{url[:200]} timed out") from None
            except httpx.TooManyRedirects:
                raise TooManyRedirects(url[:200]) from None
            except (httpx.HTTPError, httpx.InvalidURL) as error:
                raise Unreachable(f"{url[:200]}: {type(error).__name__}") from None
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            return Fetched(url=url, status_code=response.status_code, content_type=content_type, body=body,
                           charset=response.charset_encoding)
        raise TooManyRedirects(f"more than {self.client.max_redirects} redirects from {url[:200]}")

    async def _read(self, response: httpx.Response) -> bytes:
        limit = self.client.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise TooLarge(f"{response.url} declares {declared} bytes")
        chunks, size = [], 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"{response.url} sent more than {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def get_json(self, url: str, *, accept: str = AS2_ACCEPT, signed: bool = True) -> tuple[str, dict]:
        """(final URL, the JSON object) at `url`; NotJson when the body is not a JSON object."""
        fetched = await self.get(url, accept=accept, signed=signed)
        return fetched.url, parse_json(fetched.body, fetched.url)


def parse_json(body: bytes, url: str = "") -> dict:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise NotJson(f"{url[:200]} did not send JSON") from None
    if not isinstance(document, dict):
        raise NotJson(f"{url[:200]} did not send a JSON object")
    return document
