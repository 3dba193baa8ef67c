"""The response of /api/v1/jobs: one background job's lease."""

from datetime import datetime

from pydantic import BaseModel, Field


class JobHolderOut(BaseModel):
    job: str = Field(description="the job's key, e.g. reconciler/self-check, outbox/prune")
    holder: str = Field(description="the holding process: host, pid and a per-start suffix")
    host: str
    pid: int
    since: datetime = Field(description="when this holder took the lease")
    heartbeat: datetime = Field(description="the holder's last renewal")
    expires: datetime = Field(
        description="when the lease lapses unless renewed (another process may take it)"
    )
    version: int = Field(description="the fencing token: changes with every change of holder")
    live: bool = Field(description="false once the lease has expired (the holder stopped renewing)")
