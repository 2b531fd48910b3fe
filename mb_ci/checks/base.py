"""What every check shares: a collector that applies the policy's severities to findings."""

from __future__ import annotations

from dataclasses import dataclass, field

from mb_ci.catalog import get
from mb_ci.models import Finding, Severity
from mb_ci.policy import Policy


@dataclass
class Findings:
    """Collects findings for one subject, with the policy's severity and the platform filled in."""

    policy: Policy
    platform: str | None = None
    items: list[Finding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def ran(self, check: str) -> None:
        get(check)  # a misspelled id fails where it is emitted
        if check not in self.checked:
            self.checked.append(check)

    def add(
        self,
        check: str,
        message: str,
        *,
        label: str | None = None,
        expected: str | None = None,
        actual: str | None = None,
        severity: Severity | None = None,
        line: int | None = None,
        gate: str | None = None,
        **detail: str,
    ) -> None:
        self.ran(check)
        sev = severity if severity is not None else self.policy.severity(check, label)
        if sev is Severity.OFF:
            return
        since = self.policy.effective_from(label, gate)
        if since is not None:
            detail["effective_on"] = since.isoformat()
            # a rule that is not in force yet warns, and says from when it fails (the
            # Enterprise Contract's `effective_on`); the day is the policy's `as_of`, an input
            if (
                sev is Severity.ERROR
                and self.policy.as_of is not None
                and self.policy.as_of < since
            ):
                sev = Severity.WARNING
                message = f"{message} (fails from {since.isoformat()})"
        self.items.append(
            Finding(check, sev, message, label, expected, actual, self.platform, line, detail)
        )
