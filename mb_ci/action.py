"""The GitHub container Action: inputs from ``INPUT_*``, the check, outputs, summary and reports.

The runner starts the container as root with the workspace (owned by the runner's user) at
/github/workspace, ``GITHUB_OUTPUT`` and ``GITHUB_STEP_SUMMARY`` pointing at files under
/github/file_commands, and the event payload under /github/workflow. See action.yml.

A thin caller: inputs become typed options, the pipeline makes the report, ``mb_ci.output``
writes it, and the one error handler (``mb_ci.errors.handle``) maps failures to exit codes.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path

from mb_ci.errors import EXIT_FINDINGS, EXIT_OK, MbCiError, UsageError
from mb_ci.models import Report
from mb_ci.output import OutputOptions, output_block
from mb_ci.pipeline import CheckOptions
from mb_ci.sources.options import SourceOptions

FAIL_ON = ("error", "warning", "never")
TRUE, FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0", "")


@dataclass(frozen=True)
class Inputs:
    """The Action's inputs, checked and typed."""

    check: CheckOptions
    out: OutputOptions
    fail_on: str
    badges: bool = False
    readme: str | None = None


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


def read_inputs(env: Mapping[str, str]) -> Inputs:
    """The inputs, each checked as the command line checks its option (exit 2 when wrong)."""
    from mb_ci import report as reporting
    from mb_ci.output import parse_reports

    image = get_input(env, "image")
    if not image:
        raise UsageError("input 'image' is required", "e.g. image: myapp:${{ github.sha }}")
    fail_on = get_input(env, "fail-on", "error").lower()
    if fail_on not in FAIL_ON:
        raise UsageError(f"input 'fail-on': '{fail_on[:40]}' is not one of {', '.join(FAIL_ON)}")
    verbose = boolean(env, "verbose")
    reports = parse_reports(_lines(get_input(env, "reports")))
    fmt = get_input(env, "format", "text")
    reporting.resolve(fmt, env)
    source = SourceOptions(
        platforms=tuple(_lines(get_input(env, "platform"))),
        username=get_input(env, "registry-username") or env.get("MB_CI_REGISTRY_USERNAME"),
        password=get_input(env, "registry-password") or env.get("MB_CI_REGISTRY_PASSWORD"),
    )
    check = CheckOptions(
        image=image,
        repo=get_input(env, "repo-path", "."),
        policy=get_input(env, "policy") or env.get("MB_CI_POLICY"),
        dockerfile=get_input(env, "dockerfile") or env.get("MB_CI_DOCKERFILE"),
        target=get_input(env, "target") or env.get("MB_CI_TARGET") or None,
        base=get_input(env, "base") or env.get("MB_CI_BASE") or None,
        no_base_lookup=boolean(env, "no-base-lookup"),
        source=source,
        date=_date(get_input(env, "date") or env.get("MB_CI_DATE", "")),
    )
    out = OutputOptions(format=fmt, reports=reports, verbose=verbose, strict=fail_on == "warning")
    return Inputs(check, out, fail_on, boolean(env, "badges"), get_input(env, "readme") or None)


def _date(text: str) -> dt.date | None:
    from mb_ci.policy import parse_day

    return parse_day(text, "input 'date'") if text.strip() else None


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


def _badges(inputs: Inputs, report: Report) -> str:
    """The badge snippet from the image already inspected, and the README's block updated
    when ``readme`` is set."""
    from mb_ci.badges.plan import BadgeOptions, apply, plan
    from mb_ci.safety import printable

    options = BadgeOptions(
        repo=inputs.check.repo,
        policy=inputs.check.policy,
        readme=inputs.readme,
        source=inputs.check.source,
    )
    badges = plan(inputs.check.image, options, facts=report.image)
    for note in badges.notes:
        sys.stderr.write(f"mb-ci: note: {printable(note)} (badge left out)\n")
    for path in apply(badges):
        sys.stderr.write(f"mb-ci: wrote {printable(path)}\n")
    return badges.snippet


def run(env: MutableMapping[str, str]) -> int:
    from mb_ci import output, pipeline

    inputs = read_inputs(env)
    workspace = env.get("GITHUB_WORKSPACE") or os.getcwd()
    trust_workspace(env, str(Path(workspace).resolve()), str(Path(inputs.check.repo).resolve()))
    report = _relative_to_workspace(pipeline.check_image(inputs.check), workspace)
    paths = output.emit_in_action(report, inputs.out, env)
    badge_markdown = _badges(inputs, report) if inputs.badges else ""
    output.step_summary(report, inputs.out, env)
    outputs = outputs_for(report, inputs.fail_on, paths, badge_markdown)
    output.set_outputs(env, outputs)
    if inputs.fail_on == "never" or outputs["result"] == "pass":
        return EXIT_OK
    return EXIT_FINDINGS


def main(env: MutableMapping[str, str] | None = None) -> int:
    """Run the Action; on any failure, annotate it and set ``result=error`` as well."""
    from mb_ci import output
    from mb_ci.errors import handle

    environ = os.environ if env is None else env

    def failed(_code: int, message: str) -> None:
        output.error_annotation(message)
        try:
            output.append(environ.get("GITHUB_OUTPUT"), output_block("result", "error"))
        except MbCiError:
            pass

    return handle(lambda: run(environ), failed)


if __name__ == "__main__":
    raise SystemExit(main())
