"""windhash_stack: the local stack of real servers (Kafka KRaft, PostgreSQL, DynamoDB Local) as processes."""

from windhash_stack.endpoints import Server, ServerStatus, StackEndpoints, StackStatus, UpReport
from windhash_stack.errors import MissingPrerequisite, StackError
from windhash_stack.local_stack import LocalStack
from windhash_stack.settings import StackSettings

__all__ = [
    "LocalStack",
    "MissingPrerequisite",
    "Server",
    "ServerStatus",
    "StackEndpoints",
    "StackError",
    "StackSettings",
    "StackStatus",
    "UpReport",
]
