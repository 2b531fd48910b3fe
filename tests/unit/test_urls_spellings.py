"""Remote URLs as the hosts document them: every spelling of one repository compares equal."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from typing import Any

import pytest
from helpers import paths

from mb_ci.checks.base import Findings
from mb_ci.checks.git import check_source
from mb_ci.facts import urls
from mb_ci.models import CiFacts, GitFacts, Severity
from mb_ci.policy import Policy
from mb_ci.safety import has_credentials, redact, strip_credentials

DATA = json.loads((paths.DATA / "urls" / "remote-spellings.json").read_text())
GROUPS: list[dict[str, Any]] = DATA["groups"]
SPELLINGS = [(g["name"], s["url"], s["web"]) for g in GROUPS for s in g["spellings"]]
PAIRS = [
    (g["name"], a["url"], b["url"])
    for g in GROUPS
    for a, b in itertools.combinations(g["spellings"], 2)
]
KEY = "org.opencontainers.image.source"


@pytest.mark.parametrize(("group", "url", "web"), SPELLINGS)
def test_each_spelling_gives_the_web_url_a_browser_opens(group: str, url: str, web: str) -> None:
    assert urls.normalize(url) == web
    assert urls.compare(url, web) is urls.Match.SAME
    assert urls.same_repo(web, url)


@pytest.mark.parametrize(("group", "a", "b"), PAIRS)
def test_spellings_of_one_repository_compare_equal(group: str, a: str, b: str) -> None:
    assert urls.compare(a, b) is urls.Match.SAME
    assert urls.compare(b, a) is urls.Match.SAME


def test_repositories_of_different_groups_never_compare_equal() -> None:
    for g, h in itertools.combinations(GROUPS, 2):
        for a, b in itertools.product(g["spellings"], h["spellings"]):
            assert urls.compare(a["url"], b["url"]) is urls.Match.DIFFERENT, (a, b)


@pytest.mark.parametrize(("a", "b"), DATA["different"])
def test_look_alikes_host_in_path_groups_wikis_and_ports_differ(a: str, b: str) -> None:
    assert urls.compare(a, b) is urls.Match.DIFFERENT
    assert urls.compare(b, a) is urls.Match.DIFFERENT


@pytest.mark.parametrize(("a", "b"), DATA["case_only_on_an_unknown_host"])
def test_case_only_difference_on_an_unknown_host(a: str, b: str) -> None:
    assert urls.compare(a, b) is urls.Match.CASE_ONLY
    assert not urls.same_repo(a, b)
    # once CI names the host as a GitLab server, its case rule applies
    host = urls.parse(a)
    assert host is not None
    assert urls.compare(a, b, {host.host: urls.GITLAB}) is urls.Match.SAME


@pytest.mark.parametrize(
    ("provider", "repository", "host", "product"),
    [
        ("github", "https://ghe.example.com/acme/widget", "ghe.example.com", urls.GITHUB),
        ("gitlab", "https://gitlab.example.com/group/widget", "gitlab.example.com", urls.GITLAB),
        ("jenkins", "https://git.example.com/acme/widget", None, None),
        ("github", None, None, None),
    ],
)
def test_the_ci_names_the_product_of_its_server(
    provider: str, repository: str | None, host: str | None, product: str | None
) -> None:
    known = urls.products_from_ci(provider, repository)
    assert known == ({host: product} if host else {})


def test_github_enterprise_cloud_with_data_residency_ignores_case() -> None:
    a, b = "https://octocorp.ghe.com/Acme/Widget", "git@octocorp.ghe.com:acme/widget.git"
    assert urls.compare(a, b) is urls.Match.SAME


def test_azure_devops_server_collection_paths() -> None:
    web = "https://tfs.example.com/tfs/DefaultCollection/Fabrikam/_git/FabrikamFiber"
    ssh = "ssh://tfs.example.com:22/tfs/DefaultCollection/Fabrikam/_git/FabrikamFiber"
    assert urls.compare(web, ssh) is urls.Match.SAME
    assert urls.normalize(ssh) == web
    assert urls.compare(web, web.replace("Fabrikam/", "Contoso/")) is urls.Match.DIFFERENT


def test_ports_are_compared_within_one_transport_only() -> None:
    # an SSH port says nothing about the web port, and the other way round
    assert urls.same_repo("ssh://git@git.example.com:2222/a/b", "https://git.example.com:8443/a/b")
    assert not urls.same_repo("https://git.example.com:8443/a/b", "https://git.example.com/a/b")
    assert urls.same_repo("https://git.example.com:443/a/b", "http://git.example.com/a/b")
    assert urls.same_repo("ssh://git@git.example.com:22/a/b", "git@git.example.com:a/b")


@pytest.mark.parametrize(
    "url",
    [
        "https://jdoe:s3cret@[2001:db8::7]:8443/acme/widget.git",
        "https://x-access-token:ghp_0123456789abcdefghij0123456789abcdef@github.com/o/r",
    ],
)
def test_a_label_with_a_credential_is_flagged_and_never_echoed(url: str) -> None:
    assert has_credentials(url)
    assert "s3cret" not in urls.normalize(url) and "ghp_" not in urls.normalize(url)
    assert "s3cret" not in redact(url) and "ghp_" not in redact(url)


def test_ipv6_hosts_keep_their_brackets_when_credentials_go() -> None:
    url = "https://jdoe:s3cret@[2001:db8::7]:8443/acme/widget.git"
    assert strip_credentials(url) == "https://[2001:db8::7]:8443/acme/widget.git"
    assert strip_credentials("ssh://git@[::1]:2222/o/r") == "ssh://[::1]:2222/o/r"


def test_an_aws_profile_is_not_a_credential() -> None:
    for url in (
        "codecommit::us-east-2://a-profile-name-of-2024@MyDemoRepo",
        "codecommit://a-profile-name-of-2024@MyDemoRepo",
    ):
        assert not has_credentials(url)
        assert redact(url) == url
    assert strip_credentials("codecommit://demo-profile@MyDemoRepo") == "codecommit://MyDemoRepo"


def test_the_account_azure_and_bitbucket_put_before_the_host_is_not_a_credential() -> None:
    org = "contoso-engineering-2024"  # long and with digits: shaped like a token
    url = f"https://{org}@dev.azure.com/{org}/Fabrikam/_git/FabrikamFiber"
    assert not has_credentials(url)
    assert redact(url) == url
    # the same user name before another path is still taken for a token
    assert has_credentials(f"https://{org}@dev.azure.com/contoso/Fabrikam/_git/FabrikamFiber")


@pytest.mark.parametrize(
    "value", ["https://" + "a" * 5000 + ".io/o/r", "github.com/" + "a/" * 3000, "\x00x/y"]
)
def test_hostile_values_compare_as_nothing(value: str) -> None:
    assert urls.parse(value) is None
    assert urls.compare(value, value) is urls.Match.DIFFERENT


def _git(remote: str) -> GitFacts:
    return GitFacts(
        root="/src",
        head="a" * 40,
        commit_time=dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc),
        remote_name="origin",
        remote_url=strip_credentials(remote),
        remote_normalized=urls.normalize(remote),
    )


def _findings(value: str, remote: str, ci: CiFacts | None = None) -> Findings:
    out = Findings(Policy())
    check_source(KEY, value, _git(remote), out, ci)
    return out


def test_check_source_passes_each_spelling_against_each_remote() -> None:
    for _group, a, b in PAIRS:
        found = _findings(a, b).items
        assert [f for f in found if f.check == "source-matches-remote"] == [], (a, b)
        # a label with a password in it is a finding of its own, whatever it names
        assert [f.check for f in found] == (["source-credentials"] if has_credentials(a) else [])


def test_check_source_warns_on_a_case_only_difference_on_an_unknown_host() -> None:
    [finding] = _findings(
        "https://git.example.com/Acme/Widget", "git@git.example.com:acme/widget.git"
    ).items
    assert finding.check == "source-matches-remote"
    assert finding.severity is Severity.WARNING
    assert "only in letter case" in finding.message and "git.example.com" in finding.message


def test_check_source_knows_a_self_hosted_server_from_the_ci() -> None:
    ci = CiFacts(provider="gitlab", repository_url="https://git.example.com/acme/widget")
    value, remote = "https://git.example.com/Acme/Widget", "git@git.example.com:acme/widget.git"
    assert _findings(value, remote, ci).items == []


def test_check_source_still_fails_another_repository() -> None:
    [finding] = _findings(
        "https://github.com.evil.io/octocat/Hello-World", "git@github.com:octocat/Hello-World"
    ).items
    assert finding.severity is Severity.ERROR
    assert finding.expected == "https://github.com/octocat/Hello-World"


@pytest.mark.parametrize(("value", "remote"), DATA["different"])
def test_check_source_fails_each_different_repository(value: str, remote: str) -> None:
    found = [f for f in _findings(value, remote).items if f.check == "source-matches-remote"]
    assert [f.severity for f in found] == [Severity.ERROR]
