"""Source labels as real images write them, tried against the remotes of a real checkout.

- A repository's code page names that repository: bitnami/containers labels each image with
  its directory (``bitnami/redis/7.2/debian-12/Dockerfile``:
  ``org.opencontainers.image.source="https://github.com/bitnami/containers/tree/main/bitnami/redis"``),
  and Bitbucket Server's browser shows ``/projects/KEY/repos/REPO/browse``. A wiki stays a
  repository of its own.
- A backslash ends the host for a browser (WHATWG URL): ``https://evil.io\\@github.com/o/r``
  opens evil.io, so it never names the GitHub repository, nor is it rewritten to look as if.
- ``github.com.`` (a fully qualified name) is github.com; ``git+https://`` and ``git+http://``
  (npm's and pip's spelling) keep their scheme and port.
- Visual Studio Team Services SSH remotes name the organisation as the SSH user
  (``ssh://ORG@vs-ssh.visualstudio.com:22/DefaultCollection/PROJECT/_ssh/REPO``).
- A password in scp syntax (``user:secret@host:o/r``) is a credential: flagged and redacted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.cli import run_mbci
from helpers.git import new_repo
from hypothesis import given, settings
from hypothesis import strategies as st

from mb_ci.facts import urls
from mb_ci.safety import has_credentials, redact, strip_credentials

SOURCE = "org.opencontainers.image.source"
BITNAMI = "https://github.com/bitnami/containers/tree/main/bitnami/redis"

SAME = [
    (BITNAMI, "git@github.com:bitnami/containers.git"),
    (BITNAMI, "https://github.com/bitnami/containers"),
    ("https://github.com/bitnami/containers/blob/main/bitnami/redis/README.md", BITNAMI),
    (
        "https://gitlab.com/gitlab-org/ci-cd/azure-exporter/-/tree/main/src",
        "git@gitlab.com:gitlab-org/ci-cd/azure-exporter.git",
    ),
    (
        "https://gitlab.example.com/group/sub/widget/-/blob/v1/Dockerfile",
        "ssh://git@gitlab.example.com:2222/group/sub/widget.git",
    ),
    (
        "https://bitbucket.org/atlassian/python-bitbucket/src/master/",
        "git@bitbucket.org:atlassian/python-bitbucket.git",
    ),
    (
        "https://codeberg.org/forgejo/forgejo/src/branch/forgejo/Dockerfile",
        "ssh://git@codeberg.org/forgejo/forgejo.git",
    ),
    (
        "https://bitbucket.example.com/projects/PRJ/repos/widget/browse",
        "ssh://git@bitbucket.example.com:7999/prj/widget.git",
    ),
    (
        "https://bitbucket.example.com/projects/PRJ/repos/widget/browse/src/Dockerfile",
        "https://bitbucket.example.com/scm/prj/widget.git",
    ),
    ("https://github.com./octocat/Hello-World", "git@github.com:octocat/Hello-World.git"),
    (
        "git+https://git.example.com:8443/acme/widget.git",
        "https://git.example.com:8443/acme/widget",
    ),
    ("C:\\src\\widget", "C:/src/widget.git"),
]

DIFFERENT = [
    ("https://evil.io\\@github.com/octocat/Hello-World", "https://github.com/octocat/Hello-World"),
    ("https://evil.io\\@github.com/octocat/Hello-World", "git@github.com:octocat/Hello-World.git"),
    ("https://github.com/octocat/Hello-World/wiki", "https://github.com/octocat/Hello-World"),
    (
        "https://github.com/octocat/Hello-World.wiki/tree/main",
        "https://github.com/octocat/Hello-World",
    ),
    ("https://gitlab.com/gitlab-org/ci-cd/-/wikis/home", "https://gitlab.com/gitlab-org/ci-cd"),
    (
        "https://gitlab.com/gitlab-org/ci-cd/-/tree/main",
        "https://gitlab.com/gitlab-org/ci-cd/azure-exporter",
    ),
    (
        "https://gitlab.com/gitlab-org/ci-cd/tree",
        "https://gitlab.com/gitlab-org/ci-cd",
    ),  # a subgroup
    ("https://github.com/octocat/Hello-World/tree/main", "https://github.com/octocat/Spoon-Knife"),
    ("https://github.com.evil.io./octocat/Hello-World", "https://github.com/octocat/Hello-World"),
    ("git+https://git.example.com:8443/acme/widget", "https://git.example.com/acme/widget"),
    (
        "https://bitbucket.example.com/projects/PRJ/repos/widget/settings",
        "https://bitbucket.example.com/scm/prj/widget.git",
    ),
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_code_pages_and_host_spellings_name_the_repository(a: str, b: str) -> None:
    assert urls.compare(a, b) is urls.Match.SAME
    assert urls.compare(b, a) is urls.Match.SAME


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_wikis_other_routes_and_backslash_hosts_differ(a: str, b: str) -> None:
    assert urls.compare(a, b) is urls.Match.DIFFERENT
    assert urls.compare(b, a) is urls.Match.DIFFERENT


def test_a_code_page_reads_as_the_repository_once_ci_names_the_product() -> None:
    page, remote = (
        "https://ghe.example.com/acme/widget/tree/main/app",
        "git@ghe.example.com:acme/widget",
    )
    assert urls.compare(page, remote) is urls.Match.DIFFERENT  # mb-ci cannot know the host
    github = urls.products_from_ci("github", "https://ghe.example.com/acme/widget")
    assert urls.compare(page, remote, github) is urls.Match.SAME
    wiki = "https://ghe.example.com/acme/widget/wiki"
    assert urls.compare(wiki, remote, github) is urls.Match.DIFFERENT


def test_a_backslash_host_is_never_rewritten_into_another_host() -> None:
    url = "https://evil.io\\@github.com/octocat/Hello-World"
    assert urls.parse(url) is None
    assert urls.normalize(url) == url
    assert strip_credentials(url) == url
    # a secret is still redacted
    assert "s3cret" not in urls.normalize("https://evil.io\\:s3cret@github.com/o/r")


def test_web_urls_keep_scheme_and_port_of_npm_spellings() -> None:
    assert urls.normalize("git+http://git.example.com:8080/acme/widget.git") == (
        "http://git.example.com:8080/acme/widget"
    )
    assert urls.normalize("git+https://git.example.com/acme/widget.git") == (
        "https://git.example.com/acme/widget"
    )
    assert urls.normalize("https://github.com./octocat/Hello-World") == (
        "https://github.com/octocat/Hello-World"
    )
    assert urls.normalize(BITNAMI) == "https://github.com/bitnami/containers"


def test_labels_never_writes_the_host_a_backslash_hides(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "widget", "https://evil.io\\@github.com/octocat/Hello-World")
    result = run_mbci("labels", cwd=repo.path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout).get(SOURCE) != "https://github.com/octocat/Hello-World"


@pytest.mark.docker
def test_check_passes_bitnamis_directory_label_against_the_monorepos_remotes(
    tmp_path: Path, build_image: Callable[..., str]
) -> None:
    repo = new_repo(tmp_path / "containers", "git@github.com:bitnami/containers.git")
    labels = json.loads(run_mbci("labels", cwd=repo.path).stdout)
    tag = build_image({**labels, SOURCE: BITNAMI})
    for remote in (
        "git@github.com:bitnami/containers.git",
        "https://github.com/bitnami/containers",
    ):
        repo.git("remote", "set-url", "origin", remote)
        result = run_mbci("check", tag, "--format", "json", cwd=repo.path)
        assert result.returncode == 0, (remote, result.stdout, result.stderr)
        assert [f for f in json.loads(result.stdout)["findings"] if f["label"] == SOURCE] == []
    # another repository's directory is still another repository
    repo.git("remote", "set-url", "origin", "git@github.com:bitnami/charts.git")
    result = run_mbci("check", tag, "--format", "json", cwd=repo.path)
    assert result.returncode == 1, result.stdout
    [finding] = [f for f in json.loads(result.stdout)["findings"] if f["label"] == SOURCE]
    assert finding["check"] == "source-matches-remote"


# npm's hosted-git-info lists scp syntax with a password among the remotes it reads
# (test/github.js: "user:password@github.com:foo/bar"); git hands "user:password" to ssh.
SCP_SECRETS = [
    "user:s3cret@github.com:foo/bar",
    ":s3cret@github.com:foo/bar.git",
    "oauth2:s3cret-token-value@gitlab.example.com:group/widget.git",
    "user:s3cret@[fd00::5]:acme/widget.git",
]


@pytest.mark.parametrize("value", SCP_SECRETS)
def test_a_password_in_scp_syntax_is_a_credential(value: str) -> None:
    assert has_credentials(value)
    assert "s3cret" not in redact(value)
    assert "s3cret" not in strip_credentials(value)
    assert "s3cret" not in urls.normalize(value)


@pytest.mark.parametrize(
    "value",
    [
        "alpine:3.19@sha256:4bcff63911fcb4448bd4fdacec207030997caf25e9bea4045fa6c8c44de311d1",
        "docker.io/library/alpine:3.19@sha256:4bcff63911fcb4448bd4fdacec207030997caf25e9bea4045fa6c8c44de311d1",
        "git@github.com:octocat/Hello-World.git",
        "org@vs-ssh.visualstudio.com:v3/org/proj/repo",
    ],
)
def test_image_references_and_ssh_users_are_no_credentials(value: str) -> None:
    assert not has_credentials(value)
    assert redact(value) == value


@pytest.mark.docker
def test_check_flags_and_hides_a_password_in_an_scp_source(
    tmp_path: Path, build_image: Callable[..., str]
) -> None:
    repo = new_repo(tmp_path / "widget", "git@github.com:acme/widget.git")
    labels = json.loads(run_mbci("labels", cwd=repo.path).stdout)
    tag = build_image({**labels, SOURCE: "deploy:s3cret@github.com:acme/widget.git"})
    for fmt in ("json", "text", "sarif"):
        result = run_mbci("check", tag, "--format", fmt, cwd=repo.path)
        assert result.returncode == 1, (fmt, result.stdout, result.stderr)
        assert "s3cret" not in result.stdout + result.stderr, fmt
    result = run_mbci("check", tag, "--format", "json", cwd=repo.path)
    checks = {f["check"] for f in json.loads(result.stdout)["findings"] if f["label"] == SOURCE}
    assert checks == {"source-credentials"}


# Visual Studio Team Services' SSH remotes, as public repositories still spell them (e.g. the
# test tables of bbtsoftware/TfsUrlParser and of editors' "open on Azure DevOps" extensions):
# the organisation is the SSH user, the route is _ssh.
VSTS = "https://dev.azure.com/fabrikam/Fabrikam%20Fiber/_git/FabrikamFiber"
VSTS_SSH = [
    "ssh://fabrikam@vs-ssh.visualstudio.com:22/DefaultCollection/Fabrikam%20Fiber/_ssh/FabrikamFiber",
    "ssh://fabrikam@vs-ssh.visualstudio.com:22/Fabrikam%20Fiber/_ssh/FabrikamFiber",
    "ssh://fabrikam@fabrikam.visualstudio.com:22/DefaultCollection/Fabrikam%20Fiber/_ssh/FabrikamFiber",
    "ssh://Fabrikam@vs-ssh.visualstudio.com:22/DefaultCollection/Fabrikam Fiber/_ssh/FabrikamFiber",
]


@pytest.mark.parametrize("remote", VSTS_SSH)
def test_team_services_ssh_remotes_name_the_azure_devops_repository(remote: str) -> None:
    assert urls.compare(remote, VSTS) is urls.Match.SAME
    assert urls.normalize(remote).lower() == VSTS.lower()
    # on vs-ssh the organisation is the user: another user is another organisation
    other = remote.replace("fabrikam@", "contoso@").replace("Fabrikam@", "contoso@")
    if "vs-ssh" not in remote:
        other = other.replace("fabrikam.visualstudio", "contoso.visualstudio")
    assert urls.compare(other, VSTS) is urls.Match.DIFFERENT


def test_a_repository_named_like_its_project_over_team_services_ssh() -> None:
    remote = "ssh://fabrikam@vs-ssh.visualstudio.com:22/DefaultCollection/_ssh/Fabrikam"
    web = "https://fabrikam.visualstudio.com/DefaultCollection/_git/Fabrikam"
    assert urls.compare(remote, web) is urls.Match.SAME
    assert urls.normalize(remote) == "https://dev.azure.com/fabrikam/Fabrikam/_git/Fabrikam"


def test_labels_writes_the_azure_devops_web_url_from_a_team_services_remote(
    tmp_path: Path,
) -> None:
    repo = new_repo(tmp_path / "fiber", VSTS_SSH[0])
    result = run_mbci("labels", cwd=repo.path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[SOURCE] == VSTS


NAME = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,11}", fullmatch=True)
ROUTE = st.sampled_from(
    [
        ("github.com", "{o}/{r}/tree/{b}/{p}"),
        ("github.com", "{o}/{r}/blob/{b}/{p}"),
        ("gitlab.com", "{o}/{r}/-/tree/{b}/{p}"),
        ("gitlab.com", "{o}/sub/{r}/-/blob/{b}/{p}"),
        ("bitbucket.org", "{o}/{r}/src/{b}/{p}"),
        ("codeberg.org", "{o}/{r}/src/branch/{b}/{p}"),
    ]
)


@settings(max_examples=150, deadline=None, database=None)
@given(ROUTE, NAME, NAME, NAME, st.lists(NAME, max_size=3), NAME, NAME)
def test_a_code_page_names_its_repository_and_no_other(
    route: tuple[str, str], o: str, r: str, b: str, p: list[str], o2: str, r2: str
) -> None:
    host, shape = route
    page = f"https://{host}/" + shape.format(o=o, r=r, b=b, p="/".join(p)).rstrip("/")
    repo = page.split("/-/")[0] if "/-/" in page else "/".join(page.split("/")[:5])
    assert urls.compare(page, f"{repo}.git") is urls.Match.SAME
    assert urls.normalize(page) == repo
    other = repo.replace(f"/{o}/", f"/{o2}/", 1).rsplit("/", 1)[0] + f"/{r2}"
    if other.lower() != repo.lower():
        assert urls.compare(page, other) is urls.Match.DIFFERENT
        assert urls.compare(page, f"{repo}.wiki") is urls.Match.DIFFERENT
