"""Topic names: the contract's `mtp.*.v1` topics and their dead-letter twins."""

EPISODES = "mtp.episodes.v1"
INTERVIEWS = "mtp.interviews.v1"
TASKS = "mtp.tasks.v1"
ASSIGNMENTS = "mtp.assignments.v1"
FIGURES = "mtp.figures.v1"  # each authority's counts, keyed by its code
DELIVERIES = "mtp.deliveries.v1"  # the notifier's webhook attempts, keyed by the receiving organisation
REDELIVERIES = "mtp.redeliveries.v1"  # organisations' requests to send a webhook again, keyed likewise

# The topics that carry what happened to children (what a replay rebuilds the figures from) ...
FACTS = (EPISODES, INTERVIEWS, TASKS, ASSIGNMENTS)
# ... and every topic, the figures counted from them and the webhook deliveries included.
ALL = (*FACTS, FIGURES, DELIVERIES, REDELIVERIES)


def dlq(topic: str) -> str:
    """Return the dead-letter twin of a topic."""
    return f"{topic}.dlq"


def named(namespace: str, topic: str) -> str:
    """Return a topic name inside a namespace (empty in production, unique per test)."""
    return f"{namespace}{topic}"


def all_with_dlq(namespace: str = "") -> list[str]:
    """Every topic this system uses, dead-letter twins included."""
    return [named(namespace, name) for topic in ALL for name in (topic, dlq(topic))]
