"""The Grafana dashboard that ships (deploy/grafana): every panel's query is valid PromQL (promtool),
reads metrics the services serve, and names alerts that exist; compose provisions it with the data
source its panels use."""

import json
import re
from pathlib import Path
from typing import Any

import yaml

from tests.unit.test_alert_rules import ALERTS, promtool, served_metrics

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "deploy" / "grafana"
DASHBOARD = json.loads((GRAFANA / "dashboards" / "missing-the-point.json").read_text())
PANELS = [panel for panel in DASHBOARD["panels"] if panel["type"] != "row"]


def queries() -> list[str]:
    return [target["expr"] for panel in PANELS for target in panel["targets"]]


def test_every_query_is_valid_promql(tmp_path: Path) -> None:
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query_{n}", "expr": expr} for n, expr in enumerate(queries())
                ],
            }
        ]
    }
    (tmp_path / "dashboard.yml").write_text(yaml.safe_dump(rules))
    checked = promtool("check", "rules", str(tmp_path / "dashboard.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_query_reads_metrics_the_services_serve() -> None:
    served = served_metrics()
    for expr in queries():
        used = set(re.findall(r"\b(mtp_[a-z_]+|up)\b", expr))
        assert used, expr
        assert used <= served, (expr, used - served)


def test_panels_name_only_alerts_that_exist_and_cover_every_alert() -> None:
    alerts = {rule["alert"] for rule in ALERTS}
    named = {name for panel in PANELS for name in re.findall(r"\bMtp[A-Za-z]+\b", panel["description"])}
    assert named <= alerts, named - alerts
    assert named == alerts, f"no panel shows {alerts - named}"


def test_compose_provisions_the_dashboard_and_its_data_source() -> None:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    grafana = compose["services"]["grafana"]
    assert grafana["profiles"] == ["monitoring"]
    for volume in grafana["volumes"]:
        assert (ROOT / volume.split(":")[0]).is_dir(), volume
    sources = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    uids = {source["uid"] for source in sources["datasources"]}
    assert {panel["datasource"]["uid"] for panel in PANELS} <= uids
    ids = [panel["id"] for panel in DASHBOARD["panels"]]
    assert len(ids) == len(set(ids))
