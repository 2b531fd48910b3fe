"""Treat label values as hostile: find and redact credentials, and neutralise control characters."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

REDACTED = "***"

# userinfo in any URL-ish string: scheme://user:secret@host or scheme://token@host. Greedy up to
# the last "@" before the path, as URL parsers split it: a password may itself contain "@".
# The scheme starts only where a run of scheme characters starts, and both parts are bounded, so
# that a hostile 100 KB label costs linear time rather than quadratic.
_URL_USERINFO = re.compile(
    r"(?P<scheme>(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,31}://)(?P<userinfo>[^/\s?#]{1,1024})@"
)
# scp syntax with a password, user:secret@host:path (git hands "user:secret" to ssh as the
# user; npm's hosted-git-info reads it as a remote): only at the start of a word, and only
# before a host name with a dot or an IPv6 address and its ":" or "/" (the same credential
# written before a host and path, user:secret@host/o/r), so that an image reference
# (alpine:3.19@sha256:...) is no credential. The secret runs to the last "@" before the host.
_SCP_SECRET = re.compile(
    r"(?<!\S)(?P<user>[^\s:@/]{0,128}):(?P<secret>[^\s/]{1,1024}?)@"
    r"(?=(?:[A-Za-z0-9_-]{1,63}\.){1,16}[A-Za-z0-9_-]{1,63}\.?[:/]|\[[0-9A-Fa-f:.]{2,64}\][:/])"
)
# well-known token shapes that leak through labels and remotes
_TOKENS = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{20,}"
    r"|xox[baprs]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|npm_[A-Za-z0-9]{30,})"
)
_QUERY_SECRET = re.compile(
    r"(?i)([?&](?:access_token|refresh_token|id_token|auth_token|token|private_token|password"
    r"|passwd|secret|client_secret|sig|signature|api_key|apikey|x-amz-signature"
    r"|x-amz-credential|x-amz-security-token)=)"
    r"[^&#\s]+"
)
# C0 controls except nothing, DEL, C1 controls, and the Unicode bidi/format characters that can
# make a terminal line or a review display something other than what it contains; also lone
# surrogates and the noncharacters U+FFFE/U+FFFF, which XML 1.0 forbids (JUnit, SVG) and UTF-8
# cannot encode (a registry's JSON may spell them as escapes).
_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
    "\ud800-\udfff\ufeff\ufffe\uffff]"
)


def has_credentials(value: str) -> bool:
    """True when ``value`` carries a secret: URL userinfo with a password or token, or a token."""
    for m in _URL_USERINFO.finditer(value):
        userinfo = m.group("userinfo")
        # git@ and ssh://git@ carry a user name, not a secret
        if ":" in userinfo or (_looks_like_token(userinfo) and not _names_an_account(value, m)):
            return True
    return bool(_TOKENS.search(value) or _QUERY_SECRET.search(value) or _SCP_SECRET.search(value))


def _names_an_account(value: str, m: re.Match[str]) -> bool:
    """The user name is an account, not a token, where the host puts it there by design.

    git-remote-codecommit's ``codecommit[::REGION]://PROFILE@repo`` names an AWS profile;
    Azure DevOps and Bitbucket clone URLs repeat the organisation or account as the user
    (``https://ORG@dev.azure.com/ORG/...``), and no token equals the path's first segment.
    """
    userinfo = m.group("userinfo")
    if m.group("scheme").lower() == "codecommit://":
        return True
    if value[max(0, m.start() - 12) : m.start()].lower() == "codecommit::":
        return True
    host, _, rest = value[m.end() : m.end() + 1024].partition("/")
    return bool(host) and rest.split("/", 1)[0].lower() == userinfo.lower()


def _looks_like_token(userinfo: str) -> bool:
    """A known token shape, or 20+ characters with a digit and no dot: generated tokens are
    letters and digits, while a long account name is words joined by ``-`` or ``_``
    (``firstname-lastname-contractor``), which is no secret."""
    return bool(_TOKENS.fullmatch(userinfo)) or (
        len(userinfo) >= 20 and "." not in userinfo and any(c.isdigit() for c in userinfo)
    )


def redact(value: str) -> str:
    """``value`` with every secret replaced by ``***``; the user name before ``:`` is kept."""

    def _userinfo(m: re.Match[str]) -> str:
        userinfo = m.group("userinfo")
        if ":" in userinfo:
            user = userinfo.split(":", 1)[0]
            user = REDACTED if _looks_like_token(user) else user
            return f"{m.group('scheme')}{user}:{REDACTED}@"
        if _looks_like_token(userinfo) and not _names_an_account(value, m):
            return f"{m.group('scheme')}{REDACTED}@"
        return m.group(0)

    def _scp(m: re.Match[str]) -> str:
        user = REDACTED if _looks_like_token(m.group("user")) else m.group("user")
        return f"{user}:{REDACTED}@"

    value = _URL_USERINFO.sub(_userinfo, value)
    value = _SCP_SECRET.sub(_scp, value)
    value = _QUERY_SECRET.sub(lambda m: m.group(1) + REDACTED, value)
    return _TOKENS.sub(REDACTED, value)


def strip_credentials(url: str) -> str:
    """A URL with its userinfo removed entirely (for display of a git remote)."""
    if "://" not in url:
        return redact(url)
    parts = urlsplit(url)
    if (parts.username is None and parts.password is None) or "\\" in parts.netloc:
        # a backslash ends the host for a browser (https://evil.io\@github.com opens
        # evil.io): what precedes "@" is no userinfo to drop, so only secrets are redacted
        return redact(url)
    # the host as written: an IPv6 address keeps its brackets, a port stays, and the "host" of
    # codecommit://profile@Repo (a repository name) keeps its case
    netloc = parts.netloc.rpartition("@")[2]
    return redact(parts._replace(netloc=netloc).geturl())


def printable(value: str, limit: int | None = 300) -> str:
    """Make a hostile string safe for one terminal line: escape controls, bound the length."""
    # escaping never shortens, so only the first limit + 1 characters can reach the output
    head = value if limit is None else value[: limit + 1]
    out = _CONTROL.sub(lambda m: _escape_char(m.group(0)), head)
    if limit is not None and len(out) > limit:
        out = out[: limit - 1] + "…"
    return out


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if ch == "\n":
        return "\\n"
    if ch == "\r":
        return "\\r"
    if ch == "\t":
        return "\\t"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(value: str | None, limit: int | None = 300) -> str:
    """Redact, then make printable: the one function every echo of a label value goes through."""
    return "" if value is None else printable(redact(value), limit)


# Characters JSON may carry raw but that reorder or hide text when the JSON is shown on a
# terminal or in a review (bidi controls, C1 controls, line separators), or that cannot be
# encoded as UTF-8 at all (lone surrogates).
_JSON_UNSAFE = re.compile(
    "[\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff\ud800-\udfff]"
)


def json_dumps(data: object) -> str:
    """Indented UTF-8 JSON with the characters above written as ``\\uXXXX`` escapes."""
    import json

    text = json.dumps(data, indent=2, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text) + "\n"
