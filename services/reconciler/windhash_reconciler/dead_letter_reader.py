"""The dead-letter topic, read from the beginning to its end offsets: what each service could not accept."""

from collections import defaultdict
from datetime import date

from aiokafka import ConsumerRecord
from pydantic import ValidationError
from windhash_common.events import DeadLetter
from windhash_common.kafka_connection import KafkaTarget

from windhash_reconciler.topic_reader import read_topic


async def dead_letters_by_date(
    kafka: KafkaTarget, topic: str, first: date, last: date
) -> dict[date, list[DeadLetter]]:
    """Dead letters naming a settlement date in `first..last`, by date; unreadable ones are skipped (a dead
    letter is itself the last resort, and one that does not parse names no date)."""
    found: dict[date, list[DeadLetter]] = defaultdict(list)

    def take(record: ConsumerRecord) -> None:
        if record.value is None:
            return
        try:
            letter = DeadLetter.model_validate_json(record.value)
        except ValidationError:
            return
        if letter.settlement_date is not None and first <= letter.settlement_date <= last:
            found[letter.settlement_date].append(letter)

    await read_topic(kafka, topic, take)
    return found
