"""Property-based tests of the URL normaliser: every spelling of one repository compares equal,
distinct repositories never do, and no input makes it raise."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import given, settings
from hypothesis import strategies as st

from mb_ci.facts import urls

NAME = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,11}", fullmatch=True)
LABEL = r"[a-z](?:[a-z0-9-]{0,8}[a-z0-9])?"
HOST = st.from_regex(rf"{LABEL}(?:\.{LABEL}){{0,2}}\.(?:com|io|example|net)", fullmatch=True)
# Azure DevOps organisation names start and end with a letter or digit (they are DNS labels)
ORG = st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,10}[A-Za-z0-9])?", fullmatch=True)
PROJECT = st.lists(NAME, min_size=1, max_size=3).map(" ".join)  # Azure project names hold spaces
SEGMENTS = st.lists(NAME, min_size=1, max_size=4)
# per test, not a global profile: other modules set their own; no example database on disk
SETTINGS = settings(max_examples=150, deadline=None, database=None)


def _case(draw: st.DrawFn, text: str) -> str:
    """``text`` with the case of each letter drawn at random."""
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.swapcase() if f else c for c, f in zip(text, flips, strict=True))


@st.composite
def github(draw: st.DrawFn, owner: str, repo: str) -> str:
    o, r = _case(draw, owner), _case(draw, repo)
    git = draw(st.sampled_from(["", ".git"]))
    return draw(
        st.sampled_from(
            [
                f"https://github.com/{o}/{r}{git}",
                f"https://www.github.com/{o}/{r}",
                f"git@github.com:{o}/{r}{git}",
                f"ssh://git@ssh.github.com:443/{o}/{r}{git}",
                f"ssh://git@github.com/{o}/{r}{git}",
                f"github.com/{o}/{r}",
                f"https://x-access-token:tok@github.com/{o}/{r}{git}/",
                f"git://github.com/{o}/{r}{git}",
            ]
        )
    )


@st.composite
def azure(draw: st.DrawFn, org: str, project: str, repo: str) -> str:
    o, r = _case(draw, org), _case(draw, repo)
    p = draw(st.sampled_from([project, quote(project)]))
    p = _case(draw, p)
    return draw(
        st.sampled_from(
            [
                f"git@ssh.dev.azure.com:v3/{o}/{p}/{r}",
                f"ssh://git@ssh.dev.azure.com/v3/{o}/{p}/{r}",
                f"{o}@vs-ssh.visualstudio.com:v3/{o}/{p}/{r}",
                f"https://{o}@dev.azure.com/{o}/{p}/_git/{r}",
                f"https://dev.azure.com/{o}/{p}/_git/{r}",
                f"https://{org.lower()}.visualstudio.com/{p}/_git/{r}",
                f"https://{org.lower()}.visualstudio.com/DefaultCollection/{p}/_git/{r}",
            ]
        )
    )


@st.composite
def bitbucket_server(draw: st.DrawFn, host: str, key: str, repo: str) -> str:
    k, r = _case(draw, key), _case(draw, repo)
    return draw(
        st.sampled_from(
            [
                f"ssh://git@{host}:7999/{k}/{r}.git",
                f"https://{host}/scm/{k}/{r}.git",
                f"https://{host}/bitbucket/scm/{k}/{r}.git",
                f"https://{host}/projects/{k.upper()}/repos/{r}",
            ]
        )
    )


@st.composite
def generic(draw: st.DrawFn, host: str, segments: list[str], ssh_port: int = 22) -> str:
    """A spelling of HOST/SEGMENTS; its SSH server listens on ``ssh_port``."""
    path = "/".join(segments)
    git = draw(st.sampled_from(["", ".git"]))
    ssh = [f"ssh://git@{host}:{ssh_port}/{path}{git}"]
    if ssh_port == 22:
        ssh += [f"git@{host}:{path}{git}", f"ssh://git@{host}/{path}{git}"]
    return draw(
        st.sampled_from(
            [
                f"https://{host}/{path}{git}",
                f"https://user:secret@{host}/{path}{git}",
                *ssh,
                f"{host}/{path}",
                f"https://{host}/{quote(path)}/",
            ]
        )
    )


SSH_PORT = st.sampled_from([22, 2222])


@SETTINGS
@given(st.data(), NAME, NAME)
def test_github_spellings_compare_equal(data: st.DataObject, owner: str, repo: str) -> None:
    a, b = data.draw(github(owner, repo)), data.draw(github(owner, repo))
    assert urls.compare(a, b) is urls.Match.SAME
    assert urls.normalize(a).lower() == f"https://github.com/{owner}/{repo}".lower()


@SETTINGS
@given(st.data(), NAME, NAME, NAME, NAME)
def test_distinct_github_repositories_differ(
    data: st.DataObject, o1: str, r1: str, o2: str, r2: str
) -> None:
    if (o1.lower(), r1.lower()) == (o2.lower(), r2.lower()):
        return
    assert (
        urls.compare(data.draw(github(o1, r1)), data.draw(github(o2, r2))) is urls.Match.DIFFERENT
    )


@SETTINGS
@given(st.data(), ORG, PROJECT, NAME)
def test_azure_spellings_compare_equal(
    data: st.DataObject, org: str, project: str, repo: str
) -> None:
    a, b = data.draw(azure(org, project, repo)), data.draw(azure(org, project, repo))
    assert urls.compare(a, b) is urls.Match.SAME
    web = f"https://dev.azure.com/{org}/{quote(project)}/_git/{repo}"
    assert urls.normalize(a).lower() == web.lower()


@SETTINGS
@given(st.data(), ORG, PROJECT, NAME, ORG, PROJECT, NAME)
def test_distinct_azure_repositories_differ(
    data: st.DataObject, o1: str, p1: str, r1: str, o2: str, p2: str, r2: str
) -> None:
    if (o1.lower(), p1.lower(), r1.lower()) == (o2.lower(), p2.lower(), r2.lower()):
        return
    a, b = data.draw(azure(o1, p1, r1)), data.draw(azure(o2, p2, r2))
    assert urls.compare(a, b) is urls.Match.DIFFERENT


@SETTINGS
@given(st.data(), HOST, NAME, NAME)
def test_bitbucket_server_spellings_compare_equal(
    data: st.DataObject, host: str, key: str, repo: str
) -> None:
    a = data.draw(bitbucket_server(host, key, repo))
    b = data.draw(bitbucket_server(host, key, repo))
    assert urls.compare(a, b) is urls.Match.SAME


@SETTINGS
@given(st.data(), HOST, SEGMENTS, SSH_PORT)
def test_generic_spellings_compare_equal(
    data: st.DataObject, host: str, segments: list[str], port: int
) -> None:
    a, b = data.draw(generic(host, segments, port)), data.draw(generic(host, segments, port))
    assert urls.compare(a, b) is urls.Match.SAME
    assert urls.normalize(a) == f"https://{host}/{'/'.join(segments)}"


@SETTINGS
@given(st.data(), HOST, SEGMENTS, SEGMENTS)
def test_parent_child_and_other_paths_differ(
    data: st.DataObject, host: str, s1: list[str], s2: list[str]
) -> None:
    if [s.lower() for s in s1] == [s.lower() for s in s2]:
        return
    a, b = data.draw(generic(host, s1)), data.draw(generic(host, s2))
    assert urls.compare(a, b) is urls.Match.DIFFERENT
    child = data.draw(generic(host, [*s1, *s2]))
    assert urls.compare(a, child) is urls.Match.DIFFERENT


@SETTINGS
@given(st.data(), HOST, SEGMENTS, SSH_PORT)
def test_case_only_differences_on_an_unknown_host_warn(
    data: st.DataObject, host: str, segments: list[str], port: int
) -> None:
    upper = [s.upper() for s in segments]
    if upper == segments:
        return
    a, b = data.draw(generic(host, segments, port)), data.draw(generic(host, upper, port))
    assert urls.compare(a, b) is urls.Match.CASE_ONLY


@SETTINGS
@given(st.data(), HOST, NAME, NAME)
def test_look_alike_hosts_and_hosts_in_paths_differ(
    data: st.DataObject, host: str, owner: str, repo: str
) -> None:
    real = data.draw(github(owner, repo))
    for fake in (
        f"https://github.com.{host}/{owner}/{repo}",
        f"https://{host}/github.com/{owner}/{repo}",
        f"git@{host}:github.com/{owner}/{repo}",
        f"https://{host.replace('.', '')}github.com/{owner}/{repo}",
        f"https://github.com/{owner}/{repo}.wiki",
    ):
        assert urls.compare(fake, real) is urls.Match.DIFFERENT


@SETTINGS
@given(st.text(max_size=300), st.text(max_size=300))
def test_arbitrary_text_never_raises(a: str, b: str) -> None:
    urls.compare(a, b)
    urls.normalize(a)
    urls.products_from_ci("github", a)


@SETTINGS
@given(st.text(alphabet=st.characters(codec="ascii"), max_size=120))
def test_a_derived_web_url_names_the_same_repository(text: str) -> None:
    parsed = urls.parse(text)
    if parsed is None:
        return
    web = urls.normalize(text)
    assert urls.normalize(web) == web
    assert urls.compare(text, web) is not urls.Match.DIFFERENT


@SETTINGS
@given(st.data(), HOST, SEGMENTS)
def test_ssh_servers_on_different_ports_differ(
    data: st.DataObject, host: str, segments: list[str]
) -> None:
    a = data.draw(generic(host, segments, 22).filter(lambda u: not u.startswith(("http", host))))
    b = data.draw(generic(host, segments, 2222).filter(lambda u: ":2222/" in u))
    assert urls.compare(a, b) is urls.Match.DIFFERENT


@SETTINGS
@given(st.data(), HOST, NAME, NAME, NAME, NAME)
def test_distinct_bitbucket_server_repositories_differ(
    data: st.DataObject, host: str, k1: str, r1: str, k2: str, r2: str
) -> None:
    if (k1.lower(), r1.lower()) == (k2.lower(), r2.lower()):
        return
    a = data.draw(bitbucket_server(host, k1, r1))
    b = data.draw(bitbucket_server(host, k2, r2))
    assert urls.compare(a, b) is urls.Match.DIFFERENT
