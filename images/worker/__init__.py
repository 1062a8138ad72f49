"""The operations worker: claims persisted operations and runs imports, renews leases, recovers.

pool.Worker ties the pieces together: claim (the default queue), imports (the import runner and
its progress), heartbeat (leases, cancels, expired imports), liveness and notify (PostgreSQL
replicas), recovery (at start).
"""

from images.worker.pool import Worker

__all__ = ["Worker"]
