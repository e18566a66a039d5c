#!/usr/bin/env bash
# The whole system on the embedded SQLite default, with demo users. Run it from a checkout after
# `pip install -e .` (the README's first command does both). PORT (5060), DEMO_DIR (demo/ in the
# checkout) and BIN (the checkout's .venv/bin) change where it listens, keeps its data and finds ser.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "${BIN:-$REPO/.venv/bin}" && pwd)
PORT=${PORT:-5060}
DEMO_DIR=${DEMO_DIR:-$REPO/demo}
mkdir -p "$DEMO_DIR"
cd "$DEMO_DIR"
export SER_DB_URL="sqlite:///$DEMO_DIR/ser.db" SIP_DOMAIN="${SIP_DOMAIN:-pyser.example}"
if [ ! -f ser.db ]; then
    "$BIN/serctl" db create
    "$BIN/serctl" add alice alice-secret alice@pyser.example
    "$BIN/serctl" add bob bob-secret bob@pyser.example
fi
cat <<TEXT
pyser demo: SER on sip:127.0.0.1:$PORT (UDP and TCP), users in $SER_DB_URL
  point a phone at registrar/proxy 127.0.0.1:$PORT, any domain:
    user alice  password alice-secret
    user bob    password bob-secret
  then call bob from alice (sip:bob@<the domain>). Ctrl-C stops.
  more users: SER_DB_URL=$SER_DB_URL $BIN/serctl add USER PASSWORD EMAIL
TEXT
exec "$BIN/ser" -D -E -f "$REPO/examples/demo.cfg" -l "udp:127.0.0.1:$PORT" -l "tcp:127.0.0.1:$PORT"
