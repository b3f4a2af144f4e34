#!/bin/sh
# A wrapper that leaves children holding the node's stdout and stderr:
#   linger.sh exec TAG     starts `sleep TAG` in the background, then execs
#                          the echo node (the sleeper outlives it);
#   linger.sh wait TAG     runs the echo node in the background and sleeps
#                          in the foreground, so the shell never exits.
# TAG is a number of seconds unique to the test, so that the test can find
# the sleeper among the machine's processes.
here=$(dirname "$0")
case "$1" in
exec)
    sleep "$2" &
    exec python3 "$here/echo.py" "$2"
    ;;
wait)
    # A background job's stdin is /dev/null unless given one explicitly.
    exec 3<&0
    python3 "$here/echo.py" "$2" <&3 3<&- &
    exec 3<&-
    sleep "$2"
    ;;
esac
