"""Structured logs for every service and command: key-value on a terminal, JSON lines with `log_json`
(WINDHASH_LOG_JSON).

One handler on the root logger renders everything, so the libraries' own loggers (aiokafka, asyncpg, uvicorn,
FastStream, botocore, httpx) come out in the same format as windhash's structlog events, JSON included:
structlog hands its events to the standard library (`ProcessorFormatter.wrap_for_formatter`) and the
formatter renders both kinds. The API runs uvicorn with `log_config=None`, so uvicorn's loggers propagate here
instead of getting handlers of their own.
"""

import logging
import sys

import structlog

# Loggers that configure handlers of their own when left alone: theirs are removed, so they propagate.
_SELF_CONFIGURED = ("uvicorn", "uvicorn.error", "uvicorn.access", "faststream", "faststream.access")


def configure_logging(level: str = "INFO", json_lines: bool = False) -> None:
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json_lines else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        # Records of the standard library's loggers: their message becomes the event, their extras fields.
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for name in _SELF_CONFIGURED:
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
        logger.setLevel(logging.NOTSET)  # the root's level; uvicorn sets its own again when it runs
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )
