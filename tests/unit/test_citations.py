"""What the code, its help and its documents cite is in the repository: every numbered rule cited
(`docs/domain.md rule 21`, or `DOMAIN rule 21` in the oldest migrations) is a rule of docs/domain.md,
and no file points at a document the repository does not have."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEXT = {".py", ".md", ".sql", ".html", ".yaml", ".yml", ".toml"}
CITATION = re.compile(r"(?:docs/domain\.md|DOMAIN)\s+rules?\s+([0-9][0-9,\s\-–and]*)")


def tracked() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [ROOT / name for name in names.split() if Path(name).suffix in TEXT and (ROOT / name).exists()]


def rules() -> set[int]:
    text = (ROOT / "docs" / "domain.md").read_text()
    return {int(n) for n in re.findall(r"^([0-9]+)\. ", text, re.MULTILINE)}


def numbers(cited: str) -> set[int]:
    found: set[int] = set()
    for first, last in re.findall(r"([0-9]+)(?:\s*[-–]\s*([0-9]+))?", cited):
        found.update(range(int(first), int(last or first) + 1))
    return found


def test_the_rules_are_numbered_one_to_thirty_six() -> None:
    assert rules() == set(range(1, 37))


def test_every_rule_cited_is_a_rule_of_the_domain_page() -> None:
    known = rules()
    unknown = [
        f"{path.relative_to(ROOT)}: rule {n}"
        for path in tracked()
        for cited in CITATION.findall(path.read_text())
        for n in numbers(cited)
        if n not in known
    ]
    assert unknown == []
    cited = {n for path in tracked() for c in CITATION.findall(path.read_text()) for n in numbers(c)}
    assert {5, 13, 20, 21, 25, 27} <= cited  # the scan finds the code's citations


def test_no_file_points_at_a_document_the_repository_does_not_have() -> None:
    elsewhere = re.compile(
        r"\b(?:DOMAIN|CONTRACT|ARCHITECTURE|PARTS|STYLE)\.md\b|CONTRACT §|\(ARCHITECTURE\b"
    )
    found = [
        str(p.relative_to(ROOT))
        for p in tracked()
        if p.name != Path(__file__).name and elsewhere.search(p.read_text())
    ]
    assert found == []
