#!/bin/sh
# `make run`: the daemon in the foreground on sockets in the build tree,
# with a private redis-server beside it, which holds the rate limits, the
# author records and the moderation queue (no persistence: a dev server).
# Stop with Ctrl-C; the Redis server stops with it.
set -eu

src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
run=$build/run
mkdir -p "$run"
chmod 700 "$run"
sed -e "s|@RUN@|$run|g" -e "s|@SOURCE@|$src|g" \
    "$src/etc/dev/commentd.yaml.in" >"$run/commentd.yaml"

redis-server --port 0 --unixsocket "$run/redis.sock" --unixsocketperm 700 \
    --dir "$run" --pidfile "$run/redis.pid" --daemonize yes \
    --save "" --appendonly no >/dev/null
trap 'kill "$(cat "$run/redis.pid")" 2>/dev/null || true' EXIT INT TERM

"$build/daemon/commentd" -t -c "$run/commentd.yaml"
cat <<MSG

commentd is starting on $run/submit.sock. In another terminal:

  curl --unix-socket $run/submit.sock -H 'Content-Type: application/json' \\
    -d '{"id": "c-1", "author": {"id": "u-1", "name": "Ben"}, "body": "What the f*ck is this"}' \\
    http://localhost/v1/check

Ctrl-C stops it.
MSG
"$build/daemon/commentd" -c "$run/commentd.yaml"
