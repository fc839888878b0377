"""Plain text typed by local users -> safe HTML, the way Mastodon renders it.

    render_plain("hi\\n\\nsee https://example.com")  # bio: paragraphs, <br />, links
    render_inline("https://example.com")            # profile field values: links only
    countable_length("...")                          # links count as 23 characters

Everything that is not a link is HTML-escaped, so the output is safe to show as is.
Mentions and hashtags are left as text here (the status renderer links those).
"""
from __future__ import annotations

import html
import re
import unicodedata

# http(s) links up to whitespace or a character that cannot be part of a bare URL.
URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
URL_LENGTH = 23  # what a link counts for in length limits, whatever its real length
_TRAILING = ".,:;!?'\""
_SHOWN = 30  # characters of a link shown before the ellipsis
_REL = "nofollow noopener noreferrer"


TRUE_WORDS = ("1", "true", "t", "on", "yes")
FALSE_WORDS = ("0", "false", "f", "off", "no")


def boolean(value) -> bool | None:
    """A request value read as a boolean the way Rails reads form values; None when it is none."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    return None


def whole_number(value) -> int | None:
    """A request value (text or a JSON number) read as an int; None when it is not one. Plain
    ASCII digits after one sign at most: int() alone also reads "1_0", "³" and "١٠"."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    text = str(value).strip()
    if not (text.isascii() and text[text[:1] in ("-", "+"):].isdigit()):
        return None
    try:
        return int(text)
    except ValueError:  # more digits than int() takes from text
        return None


def has_nul(value) -> bool:
    """Does a request value (text, or lists and dicts of them) hold a NUL character, or a lone
    surrogate (JSON's "\\ud800": not a character, not encodable as UTF-8)? PostgreSQL cannot
    store either in text, so such input is refused before it gets there."""
    if isinstance(value, str):
        return "\x00" in value or (not value.isascii() and _has_surrogate(value))
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _trim(url: str) -> str:
    """Drop punctuation that ends the sentence rather than the URL."""
    while url and (url[-1] in _TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))):
        url = url[:-1]
    return url


def _link(url: str, rel: str) -> str:
    scheme = re.match(r"https?://(www\.)?", url, re.IGNORECASE).group(0)
    rest = url[len(scheme):]
    shown, hidden = rest[:_SHOWN], rest[_SHOWN:]
    shown_class = "ellipsis" if hidden else ""
    return (
        f'<a href="{html.escape(url)}" target="_blank" rel="{rel}">'
        f'<span class="invisible">{html.escape(scheme)}</span>'
        f'<span class="{shown_class}">{html.escape(shown)}</span>'
        f'<span class="invisible">{html.escape(hidden)}</span></a>'
    )


def linkify(text: str, *, rel: str = _REL) -> str:
    """Escape `text`, turning http(s) URLs into links."""
    out: list[str] = []
    position = 0
    for match in URL.finditer(text):
        url = _trim(match.group(0))
        if len(url) <= len(re.match(r"https?://", url, re.IGNORECASE).group(0)):
            continue  # a bare scheme is not a link
        out.append(html.escape(text[position:match.start()]))
        out.append(_link(url, rel))
        position = match.start() + len(url)
    out.append(html.escape(text[position:]))
    return "".join(out)


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def render_plain(text: str) -> str:
    """A bio or any multi-line text: <p> per paragraph, <br /> per line break."""
    text = normalize_newlines(text).strip()
    if not text:
        return ""
    paragraphs = [p for p in re.split(r"\n{2,}", text) if p.strip()]
    return "".join("<p>" + "<br />".join(linkify(line) for line in p.split("\n")) + "</p>" for p in paragraphs)


def render_inline(text: str) -> str:
    """One line (a profile field value): escaped, links marked rel="me" for verification."""
    return linkify(text.strip(), rel="me " + _REL)


def countable_length(text: str) -> int:
    """Length as Mastodon counts it for limits: every link is 23 characters."""
    return len(URL.sub("x" * URL_LENGTH, normalize_newlines(text)))


# -- hashtag keys --------------------------------------------------------------------------------
# Letters of Latin-1 and Latin Extended-A with a diacritic fold to their ASCII letter, as
# Mastodon folds hashtags (so #café is #cafe); most by their canonical decomposition, these few
# by hand (they have none). Ligatures (æ, œ, ß, þ) stay as they are, as in Mastodon.
_FOLDED_BY_HAND = {"Ð": "D", "ð": "d", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "ı": "i", "ĸ": "k",
                   "Ŀ": "L", "ŀ": "l", "Ł": "L", "ł": "l", "Ŋ": "N", "ŋ": "n", "Ø": "O", "ø": "o",
                   "Ŧ": "T", "ŧ": "t"}
_ASCII_FOLDING = {code: base for code in range(0xC0, 0x180)
                  if (base := unicodedata.normalize("NFD", chr(code))[0]) != chr(code)
                  and base.isascii() and base.isalpha()}
_ASCII_FOLDING.update((ord(letter), base) for letter, base in _FOLDED_BY_HAND.items())
_TAG_SEPARATORS = frozenset("_\u00b7\u30fb\u200c")  # what a hashtag may hold besides word characters
TAG_KEY_MAX = 255  # NFKC may lengthen a name (one ligature becomes 18 letters): keys are cut here


def _mark_ranges() -> str:
    """Combining marks (Unicode category M) as a regular-expression class body. Python's \\w has
    none of them, so without them #สวัสดี was cut to #สว and Indic tags lost their vowel signs;
    Mastodon's hashtags ([[:word:]]) keep them."""
    ranges: list[list[int]] = []
    for code in [*range(0x300, 0x20000), *range(0xE0100, 0xE01F0)]:
        if unicodedata.category(chr(code))[0] == "M":
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    return "".join(f"\\U{a:08x}-\\U{b:08x}" if a != b else f"\\U{a:08x}" for a, b in ranges)


# One character of a hashtag's name, for regular expressions: a word character or a mark.
TAG_WORD = f"[\\w{_mark_ranges()}]"


def hashtag_key(name: str) -> str:
    """What a hashtag is known by, whatever its spelling: compatibility forms composed (NFKC:
    full-width letters are letters), lowercased, Latin letters with diacritics folded to ASCII,
    and anything a hashtag cannot hold dropped. #Café, #CAFE and #ｃａｆｅ are one tag. Empty
    for a name that holds nothing a hashtag can (it is then no hashtag at all)."""
    # Folded before lowercasing too: 'İ'.lower() is 'i' and a combining dot, which would stay.
    folded = unicodedata.normalize("NFKC", name).translate(_ASCII_FOLDING).lower().translate(_ASCII_FOLDING)
    kept = "".join(c for c in folded if c.isalnum() or c in _TAG_SEPARATORS or unicodedata.category(c)[0] == "M")
    return kept[:TAG_KEY_MAX] if any(c.isalnum() for c in kept) else ""
