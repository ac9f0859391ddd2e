"""Which payload model belongs to which CloudEvents `type`, and on which topic it travels."""

from shared import topics
from shared.contracts.assignments import ASSIGNMENT_FACTS
from shared.contracts.common import EventData
from shared.contracts.deliveries import DELIVERY_EVENTS, REDELIVERY_EVENTS
from shared.contracts.episodes import EPISODE_EVENTS
from shared.contracts.figures import FIGURES_EVENTS
from shared.contracts.interviews import INTERVIEW_EVENTS
from shared.contracts.tasks import TASK_EVENTS
from shared.contracts.voice import VOICE_NOTICES, VOICE_REPORTS

TOPIC_TYPES: dict[str, tuple[type[EventData], ...]] = {
    topics.EPISODES: EPISODE_EVENTS + VOICE_REPORTS,
    topics.INTERVIEWS: INTERVIEW_EVENTS,
    topics.TASKS: TASK_EVENTS + VOICE_NOTICES,
    topics.ASSIGNMENTS: ASSIGNMENT_FACTS,
    topics.FIGURES: FIGURES_EVENTS,
    topics.DELIVERIES: DELIVERY_EVENTS,
    topics.REDELIVERIES: REDELIVERY_EVENTS,
}

BY_TYPE: dict[str, type[EventData]] = {
    model.type_name: model for models in TOPIC_TYPES.values() for model in models
}

TOPIC_OF_TYPE: dict[str, str] = {
    model.type_name: topic for topic, models in TOPIC_TYPES.items() for model in models
}


def type_name(model: type[EventData] | EventData) -> str:
    """Return the CloudEvents type of a contract class or instance."""
    return model.type_name
