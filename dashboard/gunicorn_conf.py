"""gunicorn settings for the dashboard, shared by `make run` and the benchmark (`-c python:dashboard.gunicorn_conf`).

Threads: a page spends a few milliseconds waiting on its gRPC call, and a sync worker would sit
idle through it; with threads another request renders meanwhile. Keep-alive: a browser (and
HTMX's requests after it) reuses its connection instead of opening one per request, which a
sync worker cannot do. The worker count stays on the command line.
"""

worker_class = "gthread"
threads = 4
keepalive = 5
