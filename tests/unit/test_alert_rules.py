"""The alert rules that ship (deploy/prometheus/alerts.yml) are valid, each fires on the situation it
names and not before (promtool's own tests, alerts.test.yml), each watches metrics the services really
serve, and each links to a runbook entry that exists."""

import re
import shutil
import subprocess
from pathlib import Path

import yaml
from prometheus_client import REGISTRY

import shared.http
import shared.metrics  # noqa: F401  # the services' metrics, registered on import

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus"
ALERTS = [
    rule for group in yaml.safe_load((RULES / "alerts.yml").read_text())["groups"] for rule in group["rules"]
]


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("promtool")
    assert tool, "promtool is missing: `make test` installs it (Debian: apt-get install prometheus)"
    return subprocess.run([tool, *args], cwd=RULES, capture_output=True, text=True, timeout=120, check=False)


def test_the_rules_are_valid_and_pass_their_own_tests() -> None:
    checked = promtool("check", "rules", "alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = promtool("test", "rules", "alerts.test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_is_tested_firing() -> None:
    cases = yaml.safe_load((RULES / "alerts.test.yml").read_text())["tests"]
    fired = {
        check["alertname"] for case in cases for check in case["alert_rule_test"] if check.get("exp_alerts")
    }
    assert {rule["alert"] for rule in ALERTS} == fired


def served_metrics() -> set[str]:
    """Every series name the services serve on /metrics (and Prometheus's own `up`)."""
    suffixes = {
        "counter": ["_total"],
        "gauge": [""],
        "histogram": ["_bucket", "_count", "_sum"],
        "info": ["_info"],
    }
    return {"up"} | {
        metric.name + suffix for metric in REGISTRY.collect() for suffix in suffixes.get(metric.type, [""])
    }


def test_every_alert_watches_metrics_the_services_serve() -> None:
    served = served_metrics()
    for rule in ALERTS:
        used = set(re.findall(r"\b(mtp_[a-z_]+|up)\b", rule["expr"]))
        assert used, rule["alert"]
        assert used <= served, (rule["alert"], used - served)


def test_every_alert_links_to_its_runbook_entry() -> None:
    runbook = (ROOT / "docs" / "operations.md").read_text()
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-")
        for h in re.findall(r"^#+ (.+)$", runbook, re.M)
    }
    for rule in ALERTS:
        page, anchor = rule["annotations"]["runbook_url"].split("#")
        assert page == "docs/operations.md"
        assert anchor in anchors, rule["alert"]
