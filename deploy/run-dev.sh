#!/bin/sh
# `make run`: the Celery worker (with beat) and Django's development server, until Ctrl-C.
# Ctrl-C signals the whole process group, but a non-interactive shell starts background children with
# SIGINT ignored: Celery installs its own handler and shuts down by itself, the web server does not, so it
# gets a SIGTERM. SIGTERM sent to this script is passed on to both. Each child is signalled once and waited
# for, so nothing is left running. (The old one-liner's `trap 'kill 0' INT TERM EXIT` re-triggered itself
# on its own SIGTERM until the shell crashed: "Segmentation fault".)
set -u
port="$1"
bin="$2"

"$bin/celery" -A ozonseat worker --beat --loglevel=INFO --pool=solo &
worker=$!
"$bin/python" manage.py runserver "127.0.0.1:$port" &
web=$!

stopping=0
interrupted() {
    trap '' INT  # once: a second Ctrl-C must not signal again
    stopping=1
    kill -TERM "$web" 2>/dev/null
}
stop() {
    trap '' INT TERM
    stopping=1
    kill -TERM "$web" "$worker" 2>/dev/null
}
trap interrupted INT
trap stop TERM
# `wait` returns early when a trapped signal arrives; keep waiting until both children have exited.
while kill -0 "$web" 2>/dev/null || kill -0 "$worker" 2>/dev/null; do
    wait
    # One child exited on its own (a port already in use, say): stop the other too.
    if [ "$stopping" = 0 ] && { ! kill -0 "$web" 2>/dev/null || ! kill -0 "$worker" 2>/dev/null; }; then
        stop
    fi
done
exit 0
