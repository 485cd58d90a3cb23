"""gunicorn's settings for papermail, read from the working directory (the Procfile, the sign-up benchmark).

Command-line options and GUNICORN_CMD_ARGS override these.
"""

# Load Django once, in the master, before forking the workers. They start
# sharing its memory, and newsletter/wsgi.py's gc.freeze() runs before the
# fork, as Python's documentation advises for pre-forking servers. Under the
# sign-up benchmark the workers spent 5-15% less CPU per request. Code changes
# need a restart (not a HUP) to reach the workers.
preload_app = True
