"""An erased child's pseudonym is keyed with a secret kept outside the database: knowing the child's
reference is not enough to find its records."""

import hashlib

import pytest
from typer.testing import CliRunner

from shared.child_data import PSEUDONYM_KEY_ENV, command, pseudonym
from shared.operator_guard import AUDITED_ENV

KEY = "k" * 48


def test_the_pseudonym_cannot_be_recomputed_from_the_reference_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PSEUDONYM_KEY_ENV, KEY)
    child = "W06000015/1001"
    unkeyed = "erased:" + hashlib.sha256(child.encode()).hexdigest()[:24]
    assert pseudonym(child) != unkeyed
    assert pseudonym(child) == pseudonym(child)  # the same child, the same pseudonym
    assert pseudonym(child) != pseudonym(child, key=b"another secret of thirty-two bytes!")
    assert pseudonym(child) != pseudonym("W06000022/1001")


def test_nothing_is_erased_without_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PSEUDONYM_KEY_ENV, raising=False)
    monkeypatch.setenv(AUDITED_ENV, "cli:child:erase")  # started by `mtp child erase`
    answer = CliRunner().invoke(
        command("intake", []),
        ["erase", "W06000015/1001", "--reason", "erasure_request", "--by", "dpo", "--database-url", "x"],
    )
    assert answer.exit_code == 2
    assert PSEUDONYM_KEY_ENV in answer.output
