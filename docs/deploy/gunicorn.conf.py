"""Gunicorn settings for Liaison behind the nginx site of this folder (see README.md here).

Copy to /etc/liaison/gunicorn.conf.py; liaison-web.service starts gunicorn with it. Override a
value without editing the file through GUNICORN_CMD_ARGS (e.g. ``--workers 8``) in the unit; never
through LIAISON_* variables, which Liaison itself reads and checks.
"""

import multiprocessing

wsgi_app = "wsgi:app"
# nginx on the same host is the only client; bind a private address when it runs elsewhere.
bind = "127.0.0.1:8000"

# Threads wait on the database and on uploads; a few processes use the cores.
worker_class = "gthread"
workers = min(2 * multiprocessing.cpu_count() + 1, 8)
threads = 4

# A worker that does not check in for this long is restarted. With gthread workers the arbiter
# heartbeat is kept while a request runs, so this is not a per-request limit; 300 s matches the
# proxy timeouts of liaison-nginx.conf, long enough for a 100 MiB attachment
# (LIAISON_BLOB_MAX_BYTES) to stream between nginx and Liaison on a slow disk.
timeout = 300
graceful_timeout = 30  # a stop or reload lets running requests finish this long
keepalive = 5  # seconds an idle keep-alive connection from nginx stays open

# Trust X-Forwarded-Proto (HTTPS, and so Secure cookies and HSTS) only from the local proxy.
forwarded_allow_ips = "127.0.0.1,::1"

# Recycle workers now and then so that a slow leak can never grow without bound.
max_requests = 5000
max_requests_jitter = 500

# Access log on standard output (the journal): path without its query string, which may carry an
# e-mail address of a key look-up, and the time taken in milliseconds.
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
