"""SQL of the job leases (`scheduler_locks`, migration 0750): take, renew, release, list.

Every statement uses PostgreSQL's clock. Taking succeeds when the key is free, expired, or already ours; a
change of holder bumps `version` (the fencing token); our own re-take keeps `acquired_at` and the version.
"""

TAKE = """
INSERT INTO scheduler_locks AS held
    (job_key, holder, hostname, pid, acquired_at, heartbeat_at, expires_at, version)
VALUES ($1, $2, $3, $4, now(), now(), now() + make_interval(secs => $5), 1)
ON CONFLICT (job_key) DO UPDATE SET
    holder = EXCLUDED.holder,
    hostname = EXCLUDED.hostname,
    pid = EXCLUDED.pid,
    acquired_at = CASE WHEN held.holder = EXCLUDED.holder THEN held.acquired_at ELSE now() END,
    heartbeat_at = now(),
    expires_at = EXCLUDED.expires_at,
    version = held.version + CASE WHEN held.holder = EXCLUDED.holder THEN 0 ELSE 1 END
WHERE held.holder = EXCLUDED.holder OR held.expires_at <= now()
RETURNING version
"""

RENEW = """
UPDATE scheduler_locks
   SET heartbeat_at = now(), expires_at = now() + make_interval(secs => $3)
 WHERE job_key = $1 AND holder = $2 AND expires_at > now()
RETURNING version
"""

RELEASE = "DELETE FROM scheduler_locks WHERE job_key = $1 AND holder = $2"

HOLDERS = """
SELECT job_key, holder, hostname, pid, acquired_at, heartbeat_at, expires_at, version,
       expires_at > now() AS live
  FROM scheduler_locks
 WHERE $1::text IS NULL OR job_key LIKE $1 || '%'
 ORDER BY job_key
"""
