"""Provider eligibility and ranking (docs/domain.md rules 10-12) as a table of cases."""

import pytest

from services.notifier.domain.routing import Need, choose_provider, exclusion
from shared.directory import Organisation

CARDIFF, NEWPORT, SWANSEA = "W06000015", "W06000022", "W06000011"


def provider(
    pid: str,
    *,
    employer: str | None = None,
    covers: tuple[str, ...] = (CARDIFF,),
    languages: tuple[str, ...] = ("en",),
    capacity: int = 5,
) -> Organisation:
    return Organisation.model_validate(
        {
            "id": pid,
            "kind": "provider",
            "name": pid,
            "employer": employer,
            "covers": list(covers),
            "languages": list(languages),
            "capacity": capacity,
            "webhook_url": f"https://{pid}.example/hook",
            "webhook_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        }
    )


POLICE = frozenset({"south-wales-police"})


@pytest.mark.parametrize(
    ("org", "need", "load", "asked", "reason"),
    [
        (provider("a"), Need(CARDIFF, CARDIFF, "en"), 0, False, None),
        (
            provider("a", employer=CARDIFF),
            Need(CARDIFF, CARDIFF, "en"),
            0,
            False,
            "employed_by_responsible_authority",
        ),
        (provider("a", employer=NEWPORT, covers=(CARDIFF,)), Need(CARDIFF, CARDIFF, "en"), 0, False, None),
        (
            provider("a", employer="south-wales-police"),
            Need(CARDIFF, CARDIFF, "en"),
            0,
            False,
            "employed_by_police",
        ),
        (
            provider("a", covers=(NEWPORT,)),
            Need(CARDIFF, CARDIFF, "en"),
            0,
            False,
            "does_not_cover_host_authority",
        ),
        (provider("a", covers=(NEWPORT,)), Need(CARDIFF, NEWPORT, "en"), 0, False, None),
        (provider("a"), Need(CARDIFF, CARDIFF, "cy"), 0, False, "no_welsh_interviews"),
        (provider("a", languages=("en", "cy")), Need(CARDIFF, CARDIFF, "cy"), 0, False, None),
        (provider("a", capacity=2), Need(CARDIFF, CARDIFF, "en"), 2, False, "at_capacity"),
        (provider("a", capacity=2), Need(CARDIFF, CARDIFF, "en"), 1, False, None),
        (provider("a"), Need(CARDIFF, CARDIFF, "en"), 0, True, "already_asked_for_this_task"),
    ],
)
def test_exclusion_rules(org: Organisation, need: Need, load: int, asked: bool, reason: str | None) -> None:
    assert exclusion(org, need, police_ids=POLICE, open_assignments=load, already_asked=asked) == reason


def test_most_spare_capacity_first_and_every_exclusion_recorded() -> None:
    providers = [
        provider("in-house", employer=CARDIFF, capacity=50),
        provider("small", capacity=3),
        provider("large", capacity=10),
        provider("elsewhere", covers=(SWANSEA,)),
    ]
    decision = choose_provider(
        providers,
        Need(CARDIFF, CARDIFF, "en"),
        police_ids=POLICE,
        open_assignments={"large": 8},
        already_asked=frozenset(),
    )
    assert decision.chosen == "small"  # 3 free beats 2 free
    assert decision.ranked == ["small", "large"]
    assert decision.excluded == {
        "in-house": "employed_by_responsible_authority",
        "elsewhere": "does_not_cover_host_authority",
    }


def test_ties_go_by_directory_order_so_the_choice_is_deterministic() -> None:
    providers = [provider("first"), provider("second")]
    choices = {
        choose_provider(
            providers,
            Need(CARDIFF, CARDIFF, "en"),
            police_ids=POLICE,
            open_assignments={},
            already_asked=frozenset(),
        ).chosen
        for _ in range(5)
    }
    assert choices == {"first"}


def test_a_provider_whose_endpoint_is_disabled_is_passed_over() -> None:
    """Its URL answered 410 Gone: an offer would only be parked until the acceptance timeout."""
    decision = choose_provider(
        [provider("gone", capacity=9), provider("reachable")],
        Need(CARDIFF, CARDIFF, "en"),
        police_ids=POLICE,
        open_assignments={},
        already_asked=frozenset(),
        unreachable=frozenset({"gone"}),
    )
    assert (decision.chosen, decision.excluded) == ("reachable", {"gone": "endpoint_disabled"})


def test_nobody_eligible_means_nobody_chosen() -> None:
    decision = choose_provider(
        [provider("in-house", employer=CARDIFF)],
        Need(CARDIFF, CARDIFF, "en"),
        police_ids=POLICE,
        open_assignments={},
        already_asked=frozenset(),
    )
    assert decision.chosen is None
    assert decision.excluded == {"in-house": "employed_by_responsible_authority"}
