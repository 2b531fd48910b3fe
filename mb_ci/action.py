"""The GitHub container Action: inputs from ``INPUT_*``, the check, outputs, summary and reports.

The runner starts the container as root with the workspace (owned by the runner's user) at
/github/workspace, ``GITHUB_OUTPUT`` and ``GITHUB_STEP_SUMMARY`` pointing at files under
/github/file_commands, and the event payload under /github/workflow. See action.yml.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Mapping, MutableMapping
from pathlib import Path

from mb_ci.errors import EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, MbCiError, UsageError
from mb_ci.models import Report

FAIL_ON = ("error", "warning", "never")
TRUE, FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0", "")


def get_input(env: Mapping[str, str], name: str, default: str = "") -> str:
    """An input as the runner passes it: ``INPUT_REPO-PATH``, or ``INPUT_REPO_PATH`` as some
    runners and wrappers spell it. Surrounding whitespace is dropped."""
    upper = name.upper()
    for key in (f"INPUT_{upper}", f"INPUT_{upper.replace('-', '_')}"):
        value = env.get(key)
        if value is not None and value.strip():
            return value.strip()
    return default


def boolean(env: Mapping[str, str], name: str) -> bool:
    value = get_input(env, name).lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise UsageError(f"input '{name}': '{value[:40]}' is not a boolean", "use true or false")


def _lines(value: str) -> list[str]:
    return [p.strip() for p in value.replace("\n", ",").split(",") if p.strip()]


def check_argv(env: Mapping[str, str]) -> tuple[list[str], str]:
    """The ``mb-ci check`` command line the inputs ask for, and the ``fail-on`` level."""
    image = get_input(env, "image")
    if not image:
        raise UsageError("input 'image' is required", "e.g. image: myapp:${{ github.sha }}")
    fail_on = get_input(env, "fail-on", "error").lower()
    if fail_on not in FAIL_ON:
        raise UsageError(f"input 'fail-on': '{fail_on[:40]}' is not one of {', '.join(FAIL_ON)}")
    argv = ["check", "--repo", get_input(env, "repo-path", ".")]
    argv += ["--format", get_input(env, "format", "text")]
    for name in ("policy", "dockerfile"):
        if get_input(env, name):
            argv += [f"--{name}", get_input(env, name)]
    for platform in _lines(get_input(env, "platform")):
        argv += ["--platform", platform]
    for spec in _lines(get_input(env, "reports")):
        argv += ["--report", spec]
    if get_input(env, "registry-username"):
        argv += ["--username", get_input(env, "registry-username")]
    if fail_on == "warning":
        argv.append("--strict")
    if boolean(env, "verbose"):
        argv.append("--verbose")
    return [*argv, "--", image], fail_on


def trust_workspace(env: MutableMapping[str, str], *paths: str) -> None:
    """Trust the workspace for every git process, including those GitPython starts.

    The checkout belongs to the runner's user while the container runs as root, so git refuses
    it ("detected dubious ownership", CVE-2022-24765). ``GIT_CONFIG_COUNT`` entries are command
    scope, which git (2.39 in the image) honours for ``safe.directory``; nothing is written to
    a config file in /github/home, which later steps share.
    """
    count = int(env.get("GIT_CONFIG_COUNT", "0") or 0)
    for path in paths:
        env[f"GIT_CONFIG_KEY_{count}"] = "safe.directory"
        env[f"GIT_CONFIG_VALUE_{count}"] = path
        count += 1
    env["GIT_CONFIG_COUNT"] = str(count)


def output_block(name: str, value: str) -> str:
    """``name<<DELIM`` … ``DELIM`` with a random delimiter the value does not contain, so no
    line of a label value can end the block early and set another output."""
    delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    while delimiter in value:  # pragma: no cover - 128 random bits
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def _append(path: str | None, text: str) -> None:
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as e:
        raise UsageError(f"{path}: cannot write: {e.strerror}") from e


def outputs_for(report: Report, fail_on: str, paths: list[str], badges: str) -> dict[str, str]:
    from mb_ci.safety import printable, redact
    from mb_ci.vocab import LS, OCI

    revision = ""
    if report.image is not None and report.image.platforms:
        labels = report.image.platforms[0].labels
        revision = labels.get(OCI + "revision") or labels.get(LS + "vcs-ref") or ""
    return {
        "result": "pass" if report.passed(fail_on == "warning") else "fail",
        "errors": str(report.errors),
        "warnings": str(report.warnings),
        "revision": printable(redact(revision), 200),
        "matched-commit": report.matched_commit or "",
        "report-paths": "\n".join(paths),
        "badge-markdown": badges,
    }


def _relative_to_workspace(report: Report, workspace: str) -> Report:
    """Annotations and SARIF name files relative to the repository root, which is the
    workspace; a checkout in a subdirectory (actions/checkout ``path:``) needs its prefix."""
    import dataclasses

    if report.git is None:
        return report
    try:
        prefix = Path(report.git.root).resolve().relative_to(Path(workspace).resolve())
    except ValueError:
        return report
    if str(prefix) in ("", "."):
        return report

    def under(path: str | None) -> str | None:
        return path if not path or Path(path).is_absolute() else (prefix / path).as_posix()

    findings = tuple(dataclasses.replace(f, file=under(f.file)) for f in report.findings)
    return dataclasses.replace(report, dockerfile=under(report.dockerfile), findings=findings)


def _badges(env: Mapping[str, str], args: argparse.Namespace, report: Report) -> str:
    """The badge snippet, and the README's block updated when ``readme`` is set."""
    if not boolean(env, "badges"):
        return ""
    from mb_ci.badges import plan as badges

    options = argparse.Namespace(**vars(args))
    options.readme = get_input(env, "readme") or None
    plan = badges.plan(args.image, options, facts=report.image)
    from mb_ci.safety import printable

    for note in plan.notes:
        sys.stderr.write(f"mb-ci: note: {printable(note)} (badge left out)\n")
    if options.readme or plan.files:
        for path in badges.apply(plan):
            sys.stderr.write(f"mb-ci: wrote {printable(path)}\n")
    return str(plan.snippet)


def run(env: MutableMapping[str, str]) -> int:
    from mb_ci import report as reporting
    from mb_ci.cli import build_parser
    from mb_ci.commands.check import build_report
    from mb_ci.commands.common import parse_reports, render_options
    from mb_ci.fsutil import make_parents, write_text

    argv, fail_on = check_argv(env)
    args = build_parser(only="check").parse_args(argv)
    reports = parse_reports(args.report)
    fmt = reporting.resolve(args.format, env)
    workspace = env.get("GITHUB_WORKSPACE") or os.getcwd()
    trust_workspace(env, str(Path(workspace).resolve()), str(Path(args.repo).resolve()))
    if get_input(env, "registry-password"):
        env["MB_CI_REGISTRY_PASSWORD"] = get_input(env, "registry-password")
    report = _relative_to_workspace(build_report(args), workspace)
    options = render_options(args, False)

    if fmt == "github":
        # annotations are the point of this format, and it escapes every value for the runner;
        # inside stop-commands they would be shown as text and never become annotations
        sys.stdout.write(reporting.render(report, fmt, options))
    else:
        # The human report can quote label values; stop-commands makes sure none is taken for a
        # workflow command even if an escape were missed (actions/toolkit "stop-commands").
        from mb_ci.report.github import annotation_lines

        token = secrets.token_hex(16)
        sys.stdout.write(f"::stop-commands::{token}\n")
        sys.stdout.write(reporting.render(report, fmt, options))
        sys.stdout.write(f"::{token}::\n")
        sys.stdout.write("".join(line + "\n" for line in annotation_lines(report)))
    sys.stdout.flush()

    paths = []
    for extra_fmt, path in reports:
        make_parents(path)
        write_text(path, reporting.render(report, extra_fmt, options))
        paths.append(path)
    badge_markdown = _badges(env, args, report)

    from mb_ci.report.summary import render as summary

    _append(env.get("GITHUB_STEP_SUMMARY"), summary(report, options))
    outputs = outputs_for(report, fail_on, paths, badge_markdown)
    _append(env.get("GITHUB_OUTPUT"), "".join(output_block(k, v) for k, v in outputs.items()))
    if fail_on == "never" or outputs["result"] == "pass":
        return EXIT_OK
    return 1


def main(env: MutableMapping[str, str] | None = None) -> int:
    """Run the Action; on an operational failure, annotate it and set ``result=error``."""
    from mb_ci.report.github import command
    from mb_ci.safety import printable, redact

    env = os.environ if env is None else env
    try:
        return run(env)
    except (MbCiError, SystemExit, Exception) as e:
        if isinstance(e, MbCiError):
            code, text = e.exit_code, str(e)
        elif isinstance(e, SystemExit):  # argparse refused a value taken from an input
            code, text = EXIT_USAGE, "an input is not valid for mb-ci check (see above)"
        else:
            code, text = EXIT_INTERNAL, f"internal error: {type(e).__name__}: {e}"
        sys.stdout.write(command("error", {"title": "mb-ci"}, printable(redact(text), 1000)) + "\n")
        sys.stdout.flush()
        try:
            _append(env.get("GITHUB_OUTPUT"), output_block("result", "error"))
        except MbCiError:
            pass
        return code


if __name__ == "__main__":
    raise SystemExit(main())
