"""Normalise git remote and source URLs so that every spelling of one repository compares equal."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from mb_ci.safety import strip_credentials

# scp-like syntax: [user@]host:path, no slash before the colon (git-clone(1), "GIT URLS")
_SCP = re.compile(r"^(?:(?P<user>[^@/]+)@)?(?P<host>[^:/\[\]]+|\[[^\]]+\]):(?P<path>(?!//).*)$")
_CASE_INSENSITIVE_HOSTS = {"github.com", "gitlab.com", "bitbucket.org", "codeberg.org"}


@dataclass(frozen=True)
class RepoUrl:
    host: str
    path: str

    @property
    def https(self) -> str:
        if not self.host:
            return self.path
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 address
        return f"https://{host}/{self.path}"

    def key(self) -> tuple[str, str]:
        path = self.path.lower() if self.host in _CASE_INSENSITIVE_HOSTS else self.path
        return (self.host, path)


def parse(url: str) -> RepoUrl | None:
    """The host and repository path of a git URL, or None when it names nothing comparable."""
    url = url.strip()
    if not url or any(c.isspace() for c in url):
        return None
    if "://" in url:
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
        except ValueError:
            return None
        if parts.scheme.lower() == "file":
            return RepoUrl("", _clean_path(parts.path, keep_leading=True))
        if not host:
            return None
        return RepoUrl(host, _clean_path(parts.path))
    m = _SCP.match(url)
    if m and not url.startswith(("/", ".")):
        return RepoUrl(m.group("host").lower().strip("[]"), _clean_path(m.group("path")))
    if url.startswith(("/", ".", "~")):
        return RepoUrl("", _clean_path(url, keep_leading=True))
    return None


def _clean_path(path: str, keep_leading: bool = False) -> str:
    path = re.sub(r"/{2,}", "/", path).rstrip("/")
    if path.endswith(".git"):
        path = path[:-4]
    path = path.rstrip("/")
    return path if keep_leading else path.lstrip("/").removeprefix("~")


def same_repo(a: str, b: str) -> bool:
    pa, pb = parse(a), parse(b)
    return pa is not None and pb is not None and pa.key() == pb.key()


def normalize(url: str) -> str:
    """The canonical display form (``https://host/owner/repo``), never with credentials."""
    parsed = parse(url)
    return parsed.https if parsed else strip_credentials(url)
