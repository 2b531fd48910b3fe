"""Compare the image's revision, source, created and version labels with the git checkout."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from mb_ci import values, vocab
from mb_ci.checks.base import Findings
from mb_ci.facts import urls
from mb_ci.models import CiFacts, GitFacts, Severity
from mb_ci.safety import has_credentials


def candidates(git: GitFacts, ci: CiFacts, accept: str) -> list[tuple[str, str]]:
    """The commits a revision label may name, each with the name reported when it matches."""
    if not ci.is_pull_request:
        return [("head", git.head)]
    found: list[tuple[str, str]] = []
    if accept in ("either", "head") and ci.pr_head_sha:
        found.append(("head", ci.pr_head_sha))
    if accept in ("either", "merge") and ci.pr_merge_sha:
        found.append(("merge", ci.pr_merge_sha))
    if (accept == "either" or not found) and all(
        not same_commit(sha, git.head) for _, sha in found
    ):
        # the checkout itself, when CI checked out something else (e.g. ref: head.sha), or when
        # the commit the policy asks for does not exist (a GitLab MR pipeline has no merge commit)
        found.append(("checkout", git.head))
    return found


def same_commit(label: str, sha: str) -> bool:
    """Same commit: one abbreviates the other (at least 7 hex digits), or they are equal."""
    short, long_ = sorted((label.lower(), sha.lower()), key=len)
    if len(short) >= 40:  # two full object names (SHA-1 or SHA-256) must be equal
        return short == long_
    return len(short) >= 7 and long_.startswith(short)


def check_revision(
    key: str, value: str, git: GitFacts | None, ci: CiFacts, out: Findings
) -> str | None:
    """Returns which commit matched: ``head``, ``merge`` or ``checkout``.

    Without a checkout only the shape is judged: a SHA, perhaps with a ``-dirty`` suffix.
    """
    policy = out.policy
    raw = value.strip()
    dirty_suffix = raw.lower().endswith("-dirty")
    sha = raw[: -len("-dirty")] if dirty_suffix else raw
    out.ran("revision-dirty")
    if (dirty_suffix or (git is not None and git.dirty)) and not policy.git.allow_dirty:
        why = "has a -dirty suffix" if dirty_suffix else "was checked against a dirty work tree"
        out.add("revision-dirty", f"revision {why}", label=key, actual=value)
    cands = candidates(git, ci, policy.git.accept) if git is not None else []
    if git is None:
        expected = "a commit SHA"
    elif ci.is_pull_request:
        expected = " or ".join(f"{sha_} ({name})" for name, sha_ in cands)
    else:
        expected = git.head
    out.ran("revision-not-sha")
    if not values.is_git_sha(sha):
        out.add(
            "revision-not-sha",
            f"{key} is not a commit SHA",
            label=key,
            expected=expected,
            actual=value,
        )
        return None
    if git is None:
        return None
    out.ran("revision-matches-head")
    for problem in ci.problems:
        out.add(
            "revision-matches-head",
            f"{key}: {problem}",
            label=key,
            severity=_at_most_warning(policy.severity("revision-matches-head", key)),
        )
    for name, commit in cands:
        if same_commit(sha, commit):
            _local_merge(key, value, name, commit, git, ci, out)
            return name
    what = "the pull request's commits" if ci.is_pull_request else "HEAD"
    out.add(
        "revision-matches-head",
        f"{key} does not match {what}",
        label=key,
        expected=expected,
        actual=value,
    )
    return None


# the CI systems that merge a pull request into its target in the checkout itself
_LOCAL_MERGERS = ("jenkins", "bitbucket")


def local_merge(sha: str, git: GitFacts, ci: CiFacts) -> bool:
    """Whether ``sha`` is a merge commit a Jenkins or Bitbucket pull-request job made locally."""
    if ci.provider not in _LOCAL_MERGERS or not ci.is_pull_request:
        return False
    if ci.pr_head_sha and same_commit(sha, ci.pr_head_sha):
        return False
    commit = git.commit(sha)
    return commit is not None and commit.is_merge and commit.fetched is False


def _local_merge(
    key: str, value: str, name: str, sha: str, git: GitFacts, ci: CiFacts, out: Findings
) -> None:
    """Warn when the revision is a merge commit CI made in the checkout: no remote has it.

    Only Jenkins' merge strategy and Bitbucket's pull-request clone merge in the checkout; every
    other CI builds a commit its server holds (GitHub's and Azure's ``refs/pull/N/merge``,
    GitLab's merged results). A checkout by SHA or of a tag holds such a commit in no fetched
    ref either (actions/checkout fetches a tag into ``refs/tags``, ``ref: <sha>`` into none,
    Buildkite's merge refspec into ``FETCH_HEAD``), so the refs alone cannot tell. The head a
    pull request names was pushed, even when it is a merge (main merged into the branch).
    """
    if name == "head" or not local_merge(sha, git, ci):
        return
    head = f" ({ci.pr_head_sha})" if ci.pr_head_sha else ""
    out.add(
        "revision-matches-head",
        f"{key} matched the {name} commit, a merge commit {ci.provider} made in the checkout: "
        f"it exists in no remote, so nobody can fetch it later; label the pull request's "
        f"head{head} instead (git.revision.accept: head)",
        label=key,
        expected=ci.pr_head_sha or None,
        actual=value,
        severity=_at_most_warning(out.policy.severity("revision-matches-head", key)),
    )


def check_source(
    key: str, value: str, git: GitFacts | None, out: Findings, ci: CiFacts | None = None
) -> None:
    out.ran("source-credentials")
    if has_credentials(value):
        out.add("source-credentials", f"{key} holds a credential", label=key, actual=value)
    if git is None:
        return
    out.ran("source-matches-remote")
    # the server a CI job names is of a known product, so its case rule applies (GitHub
    # Enterprise Server, self-managed GitLab)
    products = urls.products_from_ci(ci.provider, ci.repository_url) if ci is not None else {}

    def compare(wanted: str, expected: str | None, what: str) -> None:
        match = urls.compare(value, wanted, products)
        if match is urls.Match.SAME:
            return
        if match is urls.Match.CASE_ONLY:
            host = urls.parse(wanted)
            out.add(
                "source-matches-remote",
                f"{key} differs from {what} only in letter case, and mb-ci does not know "
                f"whether {host.host if host and host.host else 'its host'} ignores case",
                label=key,
                expected=expected,
                actual=value,
                severity=_at_most_warning(out.policy.severity("source-matches-remote", key)),
                normalized=urls.normalize(value),
            )
            return
        out.add(
            "source-matches-remote",
            f"{key} does not name {what}",
            label=key,
            expected=expected,
            actual=value,
            normalized=urls.normalize(value),
        )

    if git.remote_url is None and ci is not None and ci.repository_url:
        # no remote in the checkout (e.g. a CI that fetched a tarball): the CI's own word
        repository = f"the repository {ci.provider} built"
        compare(ci.repository_url, urls.normalize(ci.repository_url), repository)
        return
    if git.remote_url is None:
        out.add(
            "source-matches-remote",
            f"{key} cannot be compared: the checkout has no remote '{out.policy.git.remote}'",
            label=key,
            actual=value,
            severity=_at_most_warning(out.policy.severity("source-matches-remote")),
        )
        return
    compare(git.remote_url, git.remote_normalized, "the git remote")


def _at_most_warning(severity: Severity) -> Severity:
    return Severity.WARNING if severity is Severity.ERROR else severity


@dataclass(frozen=True)
class Basis:
    """The commit ``created`` must not precede: what to call it, its SHA, its time if known."""

    what: str
    sha: str
    time: dt.datetime | None
    # how to get the commit into the checkout when ``time`` is unknown
    fetch: str = "fetch it"


def created_basis(git: GitFacts, ci: CiFacts, matched: str | None, accept: str) -> Basis:
    """The commit the revision matched; without a match, HEAD outside a pull request and the
    earliest known of the pull request's commits inside one (the image may come from any)."""
    cands = candidates(git, ci, accept)
    if matched is not None and matched in dict(cands):
        sha = dict(cands)[matched]
        commit = git.commit(sha)
        time = git.commit_time if same_commit(sha, git.head) else (commit.time if commit else None)
        what = _WHAT.get(matched, matched) if ci.is_pull_request else "HEAD"
        return Basis(what, sha, time, _how_to_fetch(git, sha))
    if not ci.is_pull_request:
        return Basis("HEAD", git.head, git.commit_time)
    known = [(c.time, sha) for _, sha in cands if (c := git.commit(sha)) is not None] + [
        (git.commit_time, git.head)
    ]
    time, sha = min(known)
    return Basis("the earliest of the pull request's commits", sha, time)


def _how_to_fetch(git: GitFacts, sha: str) -> str:
    """A parent of HEAD (a pull request's merge commit) is one fetch-depth away; any other
    commit (``workflow_run.head_sha``, a head the checkout never fetched) is not."""
    head = git.commit(git.head)
    if head is not None and any(same_commit(sha, parent) for parent in head.parents):
        return "fetch it, e.g. actions/checkout fetch-depth: 2"
    return "fetch it, e.g. actions/checkout fetch-depth: 0, or git fetch origin " + sha


_WHAT = {
    "head": "the head commit",
    "merge": "the merge commit",
    "checkout": "HEAD",
}


def check_created(
    key: str, value: str, basis: Basis | None, now: dt.datetime, out: Findings
) -> None:
    policy = out.policy
    out.ran("created-format")
    when = values.parse_rfc3339(value)
    if when is None:
        out.add(
            "created-format",
            f"{key} is not an RFC 3339 timestamp",
            label=key,
            expected="RFC 3339, e.g. 2024-05-01T12:00:00Z",
            actual=value,
        )
        return
    skew = dt.timedelta(seconds=policy.git.clock_skew)
    out.ran("created-not-future")
    if when > now + skew:
        out.add(
            "created-not-future",
            f"{key} is in the future",
            label=key,
            expected=f"at most {_iso(now)}",
            actual=value,
        )
    if basis is not None:
        out.ran("created-after-commit")
    if basis is not None and basis.time is None:
        # never compare with another commit's time: on a PR the merge is newer than the head
        out.add(
            "created-after-commit",
            f"{key} cannot be compared with {basis.what} ({basis.sha}): the checkout does not "
            f"hold that commit (a shallow clone); {basis.fetch}",
            label=key,
            actual=value,
            severity=_at_most_warning(policy.severity("created-after-commit", key)),
        )
    elif basis is not None and basis.time is not None and when < min(basis.time, now) - skew:
        # a commit time in the future (the committer's clock was ahead) cannot bind created
        # beyond now: an image built right after that commit is truthful
        out.add(
            "created-after-commit",
            f"{key} is before {basis.what}'s commit time",
            label=key,
            expected=f"at least {_iso(min(basis.time, now))}",
            actual=value,
        )
    if policy.git.max_age is not None:
        out.ran("created-max-age")
        oldest = now - dt.timedelta(seconds=policy.git.max_age)
        if when < oldest:
            out.add(
                "created-max-age",
                f"{key} is older than the policy's max-age",
                label=key,
                expected=f"at least {_iso(oldest)}",
                actual=value,
            )


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


def _strip_v(value: str) -> str:
    return value[1:] if value[:1] in ("v", "V") else value


def check_version(
    key: str, value: str, git: GitFacts | None, out: Findings, basis: Basis | None = None
) -> None:
    """``version`` names a tag at the commit the revision matched (HEAD without ``basis``).

    On a pull request that commit may not be HEAD: a ``workflow_run`` or ``pull_request_target``
    job checks out the default branch, whose tip may carry a release tag the image from the
    pull request's head has nothing to do with. A commit the checkout does not hold has tags
    nobody can see, and one without tags has no version to match.
    """
    if git is None:
        return
    tags = git.tags if basis is None else git.tags_at(basis.sha)
    if not tags:
        return
    out.ran("version-matches-tag")
    v = value.strip()
    for tag in tags:
        if v == tag or (out.policy.git.allow_v_prefix and _strip_v(v) == _strip_v(tag)):
            return
    out.add(
        "version-matches-tag",
        f"{key} does not match the tag at {'HEAD' if basis is None else basis.what}",
        label=key,
        expected=" | ".join(tags),
        actual=value,
    )


def check_git(
    labels: Mapping[str, str], git: GitFacts | None, ci: CiFacts, now: dt.datetime, out: Findings
) -> str | None:
    """Every git comparison for every present key of either vocabulary.

    With no checkout (``--no-git``) what needs none still runs: revision is a SHA, source holds
    no credential, created is RFC 3339 and not in the future. ``created`` is compared with the
    commit the revision matched (CONCEPTS puts revision first).
    """
    matched: str | None = None
    for concept, keys in vocab.CONCEPTS.items():
        for key in keys:
            value = labels.get(key)
            if value is None or not value.strip():
                continue
            if concept == "revision":
                matched = check_revision(key, value, git, ci, out) or matched
            elif concept == "source":
                check_source(key, value, git, out, ci)
            elif concept == "created":
                basis = (
                    None if git is None else created_basis(git, ci, matched, out.policy.git.accept)
                )
                check_created(key, value, basis, now, out)
            else:
                check_version(key, value, git, out, _version_basis(git, ci, matched, out))
    return matched


def _version_basis(
    git: GitFacts | None, ci: CiFacts, matched: str | None, out: Findings
) -> Basis | None:
    """The commit whose tags ``version`` names: the one the revision matched, else HEAD."""
    if git is None or matched is None:
        return None
    cands = dict(candidates(git, ci, out.policy.git.accept))
    sha = cands.get(matched)
    if sha is None or same_commit(sha, git.head):
        return None
    return Basis(_WHAT.get(matched, matched), sha, None)


# the variable each CI system names the commit it built in
CI_SHA_VARIABLES = {
    "github": "GITHUB_SHA",
    "gitlab": "CI_COMMIT_SHA",
    "azure": "BUILD_SOURCEVERSION",
    "bitbucket": "BITBUCKET_COMMIT",
    "circleci": "CIRCLE_SHA1",
    "buildkite": "BUILDKITE_COMMIT",
    "jenkins": "GIT_COMMIT",
}


def check_event(
    labels: Mapping[str, str], git: GitFacts | None, ci: CiFacts, out: Findings
) -> None:
    """``event-vs-checkout``: HEAD is one of the commits CI names, or a merge of one of them.

    On a pull request CI names several commits, and the checkout may be any of them: GitHub's
    ``pull_request`` names the merge commit in ``GITHUB_SHA`` and ``actions/checkout`` with
    ``ref: ${{ github.event.pull_request.head.sha }}`` checks out the head; ``pull_request_target``
    and ``workflow_run`` check out the base branch (``GITHUB_SHA``) and name the head in the
    payload. Jenkins' merge strategy and Bitbucket's pull-request clone merge the target into
    the commit CI names, in the checkout itself: HEAD is then a merge whose parent it is.
    """
    if git is None or not ci.named:
        return
    out.ran("event-vs-checkout")
    if any(same_commit(sha, git.head) for sha in ci.named):
        return
    head = git.commit(git.head)
    if (
        head is not None
        and head.is_merge
        and any(same_commit(sha, parent) for sha in ci.named for parent in head.parents)
    ):
        return
    variable = CI_SHA_VARIABLES.get(ci.provider or "", "its commit variable")
    built = ci.sha or ci.pr_head_sha or ci.pr_merge_sha or ""
    if ci.provider == "github":
        cause = (
            "a workflow_dispatch run with a ref, or actions/checkout with `ref:`"
            if ci.event == "workflow_dispatch"
            else "actions/checkout with `ref:`, or a step that checked out or committed "
            "another commit"
        )
    else:
        cause = "the job checked out (or committed) another commit than the one CI names"
    key = next(
        (k for k in vocab.CONCEPTS["revision"] if k in labels), vocab.CONCEPTS["revision"][0]
    )
    named = " / ".join(ci.named)
    out.add(
        "event-vs-checkout",
        f"{ci.provider or 'CI'} says it built {named} ({variable}"
        f"{', ' + ci.event if ci.event else ''}) but the checkout's HEAD is {git.head}; "
        f"likely cause: {cause}. Labels are compared with HEAD",
        label=key,
        expected=built,
        actual=git.head,
        variable=variable,
    )
