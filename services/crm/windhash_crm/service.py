"""The CRM service in one event loop: its HTTP app (uvicorn), the shared outbox relay that publishes its
events, and its two scheduled jobs (each under its own lease), side by side until `stop`
(windhash_common.service_loops).

Start-up waits out PostgreSQL and Kafka outages; afterwards a job's failed run is logged and retried, the
relay waits outages out, and a request meeting an outage answers 5xx while /ready says why.
"""

import asyncio

import structlog
from windhash_common.access.service_server import serve_until, service_server
from windhash_common.outbox_relay import OutboxRelay
from windhash_common.service_loops import pool_and_publisher, run_loops

from windhash_crm.app import create_crm_app
from windhash_crm.scheduler import Clock, run_job, utc_now
from windhash_crm.settings import OVERDUE_JOB, REMINDER_JOB, CrmSettings

SERVICE = "crm"
log = structlog.get_logger(__name__)


async def run_crm(settings: CrmSettings, stop: asyncio.Event, clock: Clock = utc_now) -> None:
    pool_size = (settings.db_pool_min_size, settings.db_pool_max_size)
    async with pool_and_publisher(settings, SERVICE, None, pool_size) as (pool, broker):
        relay_wake = asyncio.Event()
        app = create_crm_app(settings, pool, clock, relay_wake)
        # Inside this loop, the service's stop event answering the signals; the API's guards and headers.
        server = service_server(app, settings, settings.crm_host, settings.crm_port)
        interval, batch = settings.crm_relay_interval_seconds, settings.crm_relay_batch
        relay = OutboxRelay(SERVICE, pool, broker, relay_wake, interval, batch)
        log.info("crm service running", port=settings.crm_port)
        await run_loops(
            {
                "http": serve_until(server, stop),
                "relay": relay.run(stop),
                "overdue": run_job(OVERDUE_JOB, pool, settings, stop, clock),
                "reminders": run_job(REMINDER_JOB, pool, settings, stop, clock),
            },
            stop,
        )
        log.info("crm service stopped")
