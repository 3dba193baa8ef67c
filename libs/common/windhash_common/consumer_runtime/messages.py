"""What the consumer runtime hands a handler: consumed messages, decoded or rejected, with their positions."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, NamedTuple, TypeVar

from pydantic import BaseModel, ValidationError

from windhash_common.dead_letters import Rejection

E = TypeVar("E")
M = TypeVar("M", bound=BaseModel)
TopicPartitionKey = tuple[str, int]


class ConsumedMessage(NamedTuple):
    """One record as consumed. A NamedTuple (not a frozen dataclass): one is made per record, and a frozen
    dataclass costs about three times as much to build (a replay of millions of records feels it)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None

    @property
    def topic_partition(self) -> TopicPartitionKey:
        return (self.topic, self.partition)


@dataclass(frozen=True)
class Positioned(Generic[E]):
    """A decoded event with the message it was read from."""

    message: ConsumedMessage
    event: E

    @property
    def offset(self) -> int:
        return self.message.offset

    @property
    def topic_partition(self) -> TopicPartitionKey:
        return self.message.topic_partition


@dataclass(frozen=True)
class Decoded(Generic[E]):
    message: ConsumedMessage
    outcome: E | Rejection


@dataclass(frozen=True)
class Batch(Generic[E]):
    """The events of one batch not applied yet (past the stored positions), in (topic, partition, offset)
    order, and what the runtime already did with the rest of the batch."""

    events: tuple[Positioned[E], ...]
    skipped: int = 0
    """Messages below the stored position of their partition: applied by an earlier batch."""
    rejected: tuple[tuple[ConsumedMessage, Rejection], ...] = field(default=())
    """Messages that could not be decoded: dead-lettered in this batch's transaction."""
    refused: list[tuple[ConsumedMessage, Rejection]] = field(default_factory=list)
    """Events the handler refused (`refuse`): dead-lettered in this batch's transaction like the rejected."""

    def refuse(self, positioned: Positioned[E], rejection: Rejection) -> None:
        """Dead-letter an event the handler cannot apply (e.g. figures its columns cannot hold): its position
        advances with the batch, so it never stops the partition."""
        self.refused.append((positioned.message, rejection))


def decode_json_model(
    model: type[M], value: bytes | None, max_bytes: int, check: Callable[[M], str | None] | None = None
) -> M | Rejection:
    """`value` as a `model`, or why not: empty, oversized, invalid_json, schema, or unstorable (what `check`
    finds wrong with an otherwise valid event, e.g. a value its columns cannot hold)."""
    if value is None:
        return Rejection("empty", "message has no value (tombstone)")
    if len(value) > max_bytes:
        return Rejection("oversized", f"message is {len(value)} bytes, the limit is {max_bytes}")
    try:
        event = model.model_validate_json(value)
    except ValidationError as error:
        kind = "invalid_json" if any(e["type"] == "json_invalid" for e in error.errors()) else "schema"
        return Rejection(kind, f"not a valid {model.__name__}: {_problems(error)}")
    problem = check(event) if check is not None else None
    return Rejection("unstorable", problem) if problem else event


def _problems(error: ValidationError, limit: int = 1000) -> str:
    text = "; ".join(
        f"{'.'.join(str(part) for part in problem['loc']) or '<message>'}: {problem['msg']}"
        for problem in error.errors()
    )
    return text if len(text) <= limit else text[:limit] + "…"
