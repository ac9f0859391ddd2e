"""`python -m tools.dependency_audit deploy/requirements.lock`: known vulnerabilities in the pinned
production dependencies (`make lint` runs it).

pip-audit asks a vulnerability database on the internet. A vulnerable pin fails the check; a database
that cannot be reached (no network, a mirror without the vulnerability API) does not, but says so
plainly: how many packages went unchecked, never "no known vulnerabilities".
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

UNREACHABLE = ("ConnectionError", "NameResolution", "Max retries exceeded", "Timeout", "timed out")


def verdict(report: dict[str, Any] | None, returncode: int, stderr: str) -> tuple[int, list[str]]:
    """The exit code and the lines to print, from pip-audit's JSON report (None if it gave none)."""
    if report is None:
        if any(sign in stderr for sign in UNREACHABLE):
            return 0, ["dependency audit skipped: the vulnerability database could not be reached"]
        last = stderr.strip().splitlines()[-1] if stderr.strip() else f"pip-audit exited with {returncode}"
        return 1, [f"dependency audit failed: {last}"]
    dependencies = report.get("dependencies", [])
    lines = [
        f"{dep['name']} {dep.get('version', '?')}: {vuln['id']}"
        + (f" ({', '.join(vuln['aliases'])})" if vuln.get("aliases") else "")
        + (f", fixed in {', '.join(vuln['fix_versions'])}" if vuln.get("fix_versions") else ", no fix yet")
        for dep in dependencies
        for vuln in dep.get("vulns", [])
    ]
    if lines:
        return 1, ["known vulnerabilities in pinned dependencies:", *lines]
    unchecked = [dep["name"] for dep in dependencies if "skip_reason" in dep]
    if dependencies and len(unchecked) == len(dependencies):
        return 0, [
            f"dependency audit skipped: the vulnerability database could not be reached "
            f"({len(unchecked)} packages unchecked)"
        ]
    checked = len(dependencies) - len(unchecked)
    return 0, [
        f"dependency audit: {checked} packages checked, no known vulnerabilities"
        + (f"; {len(unchecked)} unchecked: {', '.join(unchecked)}" if unchecked else "")
    ]


def main(lock: Path) -> int:
    done = subprocess.run(  # noqa: S603  # pip-audit from this environment, on our lock file
        [
            sys.executable, "-m", "pip_audit", "--requirement", str(lock), "--require-hashes",
            "--disable-pip", "--format", "json", "--progress-spinner", "off",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip
    try:
        report = json.loads(done.stdout) if done.stdout.strip() else None
    except json.JSONDecodeError:
        report = None
    code, lines = verdict(report, done.returncode, done.stderr)
    print("\n".join(lines), file=sys.stderr if code else sys.stdout)
    return code


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "deploy/requirements.lock")))
