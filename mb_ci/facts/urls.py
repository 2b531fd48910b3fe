"""Read git remote and source URLs as the hosts spell them: one identity and one web URL each."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from mb_ci.safety import strip_credentials

MAX_URL = 4096  # longer is not a remote anyone uses, and would only cost time

# scp-like syntax: [user@]host:path, no slash before the colon (git-clone(1), "GIT URLS")
_SCP = re.compile(r"^(?:(?P<user>[^@/]+)@)?(?P<host>[^:/\[\]@]+|\[[^\]]+\]):(?P<path>(?!//).*)$")
# git-remote-codecommit: codecommit://[profile@]repo or codecommit::REGION://[profile@]repo
_CODECOMMIT_HELPER = re.compile(
    r"^codecommit(?:::(?P<region>[a-z0-9-]{1,32}))?://(?:[^@/\s]{1,128}@)?(?P<repo>[A-Za-z0-9_.-]{1,100})$"
)
_CODECOMMIT_HOST = re.compile(
    r"^git-codecommit(?:-fips)?\.(?P<region>[a-z0-9-]{1,32})\.amazonaws\.com$"
)
# a label without a scheme: host.tld/owner/repo (a port would make it scp syntax, as git reads it)
_SCHEMELESS = re.compile(
    r"^(?P<host>(?:[A-Za-z0-9-]{1,63}\.)+(?!git/)[A-Za-z]{2,63}|localhost)/(?P<path>[^:]+)$"
)
# a DNS name (with ``_``, which SSH host aliases use), or an IP address
_HOST = re.compile(
    r"^(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.?$"
    r"|^[0-9a-f:.]*:[0-9a-f:.]*$"
)
# git+https:// is how npm and pip spell a git remote in a label; it is the web transport
_WEB = {"http", "https", "git+http", "git+https"}
# a Windows drive path (C:\src\repo, C:/src/repo): git for Windows reads it as a local path
_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
_SSH = {"ssh", "git+ssh", "ssh+git"}
_DEFAULT_PORT = {"ssh": 22, "git": 9418}
# characters RFC 3986 allows raw in a path segment
_PCHAR = "~!$&'()*+,;=:@"

GITHUB, GITLAB, BITBUCKET, GITEA = "github", "gitlab", "bitbucket", "gitea"
BITBUCKET_SERVER, AZURE, AZURE_SERVER, CODECOMMIT = (
    "bitbucket-server",
    "azure-devops",
    "azure-devops-server",
    "codecommit",
)
# Products whose owner and repository names are case-insensitive, in the cloud and self-hosted
# alike. CodeCommit is not listed: mb-ci does not know its rule, so a case difference warns.
CASE_INSENSITIVE = frozenset(
    {GITHUB, GITLAB, BITBUCKET, GITEA, BITBUCKET_SERVER, AZURE, AZURE_SERVER}
)
# cloud hosts, as spelled in remotes, with the product and the host a browser opens
_CLOUD: Mapping[str, tuple[str, str]] = {
    "github.com": (GITHUB, "github.com"),
    "www.github.com": (GITHUB, "github.com"),
    "ssh.github.com": (GITHUB, "github.com"),  # SSH over the HTTPS port
    "gitlab.com": (GITLAB, "gitlab.com"),
    "www.gitlab.com": (GITLAB, "gitlab.com"),
    "altssh.gitlab.com": (GITLAB, "gitlab.com"),
    "bitbucket.org": (BITBUCKET, "bitbucket.org"),
    "www.bitbucket.org": (BITBUCKET, "bitbucket.org"),
    "altssh.bitbucket.org": (BITBUCKET, "bitbucket.org"),
    "codeberg.org": (GITEA, "codeberg.org"),
}


class Match(enum.Enum):
    """How two URLs compare: the same repository, different only in letter case, or not."""

    SAME = "same"
    CASE_ONLY = "case-only"
    DIFFERENT = "different"


@dataclass(frozen=True)
class RepoUrl:
    """One repository as a URL names it.

    ``host`` and ``path`` are what a browser opens (``path`` without a leading slash or
    ``.git``); ``ident`` names the repository within ``host`` for ``product`` and is compared.
    """

    host: str
    path: str
    scheme: str = "https"
    port: int | None = None  # the web port, kept when it is not the scheme's default
    product: str | None = None
    ident: tuple[str, ...] = ()
    transport: str = "web"  # web, ssh, git, other, local
    transport_port: int | None = None  # a non-default port of the transport itself

    @property
    def https(self) -> str:
        """The web URL: what a browser opens for this repository."""
        if not self.host:
            return self.path
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 address
        port = f":{self.port}" if self.port else ""
        return f"{self.scheme}://{host}{port}/{self.path}"


def parse(url: str) -> RepoUrl | None:
    """The repository a git URL names, or None when it names nothing comparable."""
    url = url.strip()
    if not url or len(url) > MAX_URL or any(c.isspace() and c != " " for c in url):
        return None
    if _DRIVE.match(url):
        return _local(url.replace("\\", "/"))
    if "\\" in url:
        # A browser reads a backslash as "/" (WHATWG URL), Python's urlsplit as part of the
        # authority: https://evil.io\@github.com/o/r opens evil.io but would parse as GitHub.
        return None
    helper = _CODECOMMIT_HELPER.match(url)
    if helper:
        return _codecommit(helper.group("region"), helper.group("repo"))
    if "://" in url:
        return _parse_url(url)
    m = _SCP.match(url)
    if m and not url.startswith(("/", ".")):
        host = m.group("host").lower().strip("[]")
        if not _HOST.match(host):
            return None
        host = host.rstrip(".")  # github.com. is github.com (a fully qualified name)
        if not host:
            return None
        return _read(host, m.group("path"), "ssh", "ssh", None, m.group("user"))
    if url.startswith(("/", ".", "~")):
        return _local(url)
    m = _SCHEMELESS.match(url)
    if m and _HOST.match(m.group("host").lower()):
        return _read(m.group("host").lower().rstrip("."), m.group("path"), "web", "https", None)
    return None


def _parse_url(url: str) -> RepoUrl | None:
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme == "file":
        return _local(unquote(parts.path))
    if not _HOST.match(host):
        return None
    host = host.rstrip(".")  # github.com. is github.com (a fully qualified name)
    if not host:
        return None
    if scheme in _WEB:
        transport = "web"
    elif scheme in _SSH:
        transport = "ssh"
    elif scheme == "git":
        transport = "git"
    else:
        transport = "other"
    return _read(host, parts.path, transport, scheme, port, parts.username)


def _local(path: str) -> RepoUrl | None:
    path = re.sub(r"/{2,}", "/", path).rstrip("/").removesuffix(".git").rstrip("/")
    return RepoUrl("", path, ident=(path,), transport="local") if path else None


def _segments(path: str) -> list[str] | None:
    raw = [s for s in path.split("/") if s]
    if raw and raw[0] == "~":  # ssh://host/~/repo: the remote user's home directory
        raw = raw[1:]
    if raw:
        last = raw[-1].removesuffix(".git")
        raw = [*raw[:-1], last] if last else raw[:-1]
    segments = [unquote(s) for s in raw]
    if not segments or any(s in (".", "..") for s in segments):
        return None
    return segments


def _web_path(segments: list[str] | tuple[str, ...]) -> str:
    return "/".join(quote(s, safe=_PCHAR) for s in segments)


def _read(
    host: str, path: str, transport: str, scheme: str, port: int | None, user: str | None = None
) -> RepoUrl | None:
    """Recognise the hosting product from the host and the path's shape."""
    segments = _segments(path)
    if segments is None:
        return None
    default = _DEFAULT_PORT.get(transport)
    tport = None if port in (None, default) or (transport == "web" and port in (80, 443)) else port
    web_scheme = "http" if scheme in ("http", "git+http") else "https"
    web_port = (
        port
        if transport == "web" and port not in (None, 443 if web_scheme == "https" else 80)
        else None
    )
    if host in _CLOUD:
        product, web_host = _CLOUD[host]
        segments = page_root(segments, product)
        return RepoUrl(web_host, _web_path(segments), product=product, ident=tuple(segments))
    if host.endswith(".ghe.com"):  # GitHub Enterprise Cloud with data residency
        segments = page_root(segments, GITHUB)
        return RepoUrl(host, _web_path(segments), product=GITHUB, ident=tuple(segments))
    azure = _azure(host, segments, transport, user)
    if azure is not None:
        org, project, repo = azure
        web = _web_path([org, project, "_git", repo])
        return RepoUrl("dev.azure.com", web, product=AZURE, ident=(org, project, repo))
    cc = _CODECOMMIT_HOST.match(host)
    if cc and len(segments) == 3 and segments[:2] == ["v1", "repos"]:
        return _codecommit(cc.group("region"), segments[2])

    def here(web: list[str], product: str | None, ident: tuple[str, ...]) -> RepoUrl:
        return RepoUrl(
            host,
            _web_path(web),
            scheme=web_scheme,
            port=web_port,
            product=product,
            ident=ident,
            transport=transport,
            transport_port=tport,
        )

    marker = next((i for i, s in enumerate(segments) if s in ("_git", "_ssh")), -1)
    if 1 <= marker == len(segments) - 2:
        # Azure DevOps Server: [collection path/]project/_git/repo
        repo = segments[-1]
        return here([*segments[:marker], "_git", repo], AZURE_SERVER, (*segments[:marker], repo))
    bbs = _bitbucket_server(segments, transport, port)
    if bbs is not None:
        context, key, repo = bbs
        owner = ["users", key[1:]] if key.startswith("~") else ["projects", key.upper()]
        return here([*context, *owner, "repos", repo], BITBUCKET_SERVER, (key, repo))
    segments = page_root(segments, None)
    return here(segments, None, tuple(segments))


# The page of a directory or file of a repository, as a browser shows it and as images label
# their source (a monorepo's subdirectory: bitnami/containers labels its images
# https://github.com/bitnami/containers/tree/main/bitnami/redis), names that repository. Only
# the code browser's routes are read so: a wiki is a repository of its own (r.wiki.git).
_CODE_PAGES: Mapping[str | None, tuple[int, frozenset[str]]] = {
    GITHUB: (2, frozenset({"tree", "blob"})),  # github.com/o/r/tree/BRANCH/PATH
    BITBUCKET: (2, frozenset({"src"})),  # bitbucket.org/w/r/src/BRANCH/PATH
    GITEA: (2, frozenset({"src"})),  # codeberg.org/o/r/src/branch/BRANCH/PATH
}


def page_root(segments: list[str] | tuple[str, ...], product: str | None) -> list[str]:
    """``segments`` without the code browser's route to a directory or file, if it has one.

    GitLab separates a project's path from its pages with a ``-`` segment, which no group or
    project may be named (``g/sub/r/-/tree/main``); mb-ci reads it so on any host it does not
    know, since a self-managed GitLab is named by nothing in its URLs.
    """
    seg = list(segments)
    fixed = _CODE_PAGES.get(product)
    if fixed is not None:
        at, routes = fixed
        return seg[:at] if len(seg) > at and seg[at] in routes else seg
    if product in (GITLAB, None):
        for i in range(2, len(seg) - 1):
            if seg[i] == "-" and seg[i + 1] in ("tree", "blob"):
                return seg[:i]
    return seg


def _azure(
    host: str, seg: list[str], transport: str, user: str | None
) -> tuple[str, str, str] | None:
    """Organisation, project and repository of an Azure DevOps Services URL.

    https://learn.microsoft.com/azure/devops/repos/git/use-ssh-keys-to-authenticate: the SSH
    URLs start with ssh.dev.azure.com, the previous ones with vs-ssh.visualstudio.com; the
    organisation URL was https://ORG.visualstudio.com before https://dev.azure.com/ORG.
    Visual Studio Team Services' SSH URLs, still in many remotes, named the organisation only
    as the user: ``ssh://ORG@vs-ssh.visualstudio.com:22/[DefaultCollection/]PROJECT/_ssh/REPO``.
    """
    if host in ("ssh.dev.azure.com", "vs-ssh.visualstudio.com"):
        if len(seg) == 4 and seg[0].lower() == "v3":
            return seg[1], seg[2], seg[3]
        if host == "ssh.dev.azure.com" or transport != "ssh" or not user or user == "git":
            return None
        org, rest = user, seg
        if rest and rest[0].lower() == "defaultcollection":
            rest = rest[1:]
    elif host == "dev.azure.com" and seg:
        org, rest = seg[0], seg[1:]
    elif host.endswith(".visualstudio.com") and host.count(".") == 2:
        org, rest = host.split(".", 1)[0], seg
        if rest and rest[0].lower() == "defaultcollection":
            rest = rest[1:]
    else:
        return None
    if len(rest) >= 3 and rest[1] == "_git" and rest[2] in ("_optimized", "_full"):
        rest = [rest[0], "_git", *rest[3:]]
    if len(rest) == 3 and rest[1] in ("_git", "_ssh"):
        return org, rest[0], rest[2]
    if len(rest) == 2 and rest[0] in ("_git", "_ssh"):  # a repository named like its project
        return org, rest[1], rest[1]
    return None


def _bitbucket_server(
    seg: list[str], transport: str, port: int | None
) -> tuple[list[str], str, str] | None:
    """Context path, project key (``~user`` for a personal repository) and repository slug.

    Clone URLs are ``https://HOST[/CONTEXT]/scm/KEY/repo.git`` and
    ``ssh://git@HOST:7999/KEY/repo.git``; the browser's is ``/projects/KEY/repos/repo``.
    """
    if transport == "web":
        if len(seg) >= 3 and seg[-3] == "scm":
            return seg[:-3], seg[-2], seg[-1]
        for i in range(len(seg) - 3):
            # the repository's page, or its code browser (/browse[/PATH]), as a browser shows it
            if (
                seg[i] in ("projects", "users")
                and seg[i + 2] == "repos"
                and (len(seg) == i + 4 or seg[i + 4] == "browse")
            ):
                key = seg[i + 1] if seg[i] == "projects" else f"~{seg[i + 1]}"
                return seg[:i], key, seg[i + 3]
    if transport == "ssh" and port == 7999 and len(seg) == 2:
        return [], seg[0], seg[1]
    return None


def _codecommit(region: str | None, repo: str) -> RepoUrl:
    if region is None:
        # the region comes from the AWS profile, which mb-ci does not read
        return RepoUrl("", f"codecommit://{repo}", product=CODECOMMIT, ident=(repo,))
    host = f"git-codecommit.{region}.amazonaws.com"
    path = f"v1/repos/{quote(repo, safe=_PCHAR)}"
    return RepoUrl(host, path, product=CODECOMMIT, ident=(repo,))


def compare(a: str, b: str, products: Mapping[str, str] | None = None) -> Match:
    """Whether ``a`` and ``b`` name one repository.

    ``products`` maps a self-hosted host to its product (e.g. the GitHub Enterprise server a
    CI job names), so that its case rule applies. Ports are compared within one transport
    (web with web, SSH with SSH); an SSH port says nothing about the web port.
    """
    pa, pb = parse(a), parse(b)
    if pa is None or pb is None:
        return Match.DIFFERENT
    return compare_parsed(pa, pb, products)


def compare_parsed(pa: RepoUrl, pb: RepoUrl, products: Mapping[str, str] | None = None) -> Match:
    if pa.product == CODECOMMIT and pb.product == CODECOMMIT and "" in (pa.host, pb.host):
        pass  # a helper URL without a region names the repository in the profile's region
    elif pa.host != pb.host or (pa.transport == "local") != (pb.transport == "local"):
        return Match.DIFFERENT
    if pa.product and pb.product and pa.product != pb.product:
        return Match.DIFFERENT
    # A product recognised from the URL itself names the repository on its host whatever the
    # port: a cloud serves fixed ports, and a Bitbucket or Azure DevOps Server names its web
    # port (and context path) nowhere in its SSH URL, so a label derived from one cannot know it.
    shape = pa.product or pb.product
    product = shape or (products or {}).get(pa.host)
    if shape is None and pa.transport == pb.transport and pa.transport_port != pb.transport_port:
        return Match.DIFFERENT
    ia, ib = pa.ident, pb.ident
    if shape is None and product is not None:
        ia, ib = tuple(page_root(ia, product)), tuple(page_root(ib, product))
    if ia == ib:
        return Match.SAME
    if tuple(s.lower() for s in ia) == tuple(s.lower() for s in ib):
        return Match.SAME if product in CASE_INSENSITIVE else Match.CASE_ONLY
    return Match.DIFFERENT


def same_repo(a: str, b: str, products: Mapping[str, str] | None = None) -> bool:
    return compare(a, b, products) is Match.SAME


def products_from_ci(provider: str | None, repository_url: str | None) -> dict[str, str]:
    """The product of the server a CI job names (``GITHUB_SERVER_URL``, ``CI_PROJECT_URL``)."""
    product = {"github": GITHUB, "gitlab": GITLAB, "bitbucket": BITBUCKET}.get(provider or "")
    parsed = parse(repository_url) if repository_url and product else None
    if parsed is None or not parsed.host or product is None:
        return {}
    return {parsed.host: product}


def normalize(url: str) -> str:
    """The web URL (``https://host/owner/repo`` as a browser opens it), never with credentials."""
    parsed = parse(url)
    return parsed.https if parsed else strip_credentials(url)
