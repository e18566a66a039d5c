#!/usr/bin/env bash
# The whole system on the embedded SQLite default, with demo users, started through `serctl start`.
# Run it from a checkout after `pip install -e .` (the README's first command does both). PORT (5060),
# DEMO_DIR (demo/ in the checkout) and BIN (the checkout's .venv/bin) change where it listens, keeps
# its data and finds the programs. `serctl stop` (with the environment printed at the end) stops it.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "${BIN:-$REPO/.venv/bin}" && pwd)
PORT=${PORT:-5060}
DEMO_DIR=${DEMO_DIR:-$REPO/demo}
mkdir -p "$DEMO_DIR"
export SER_DB_URL="sqlite:///$DEMO_DIR/ser.db" SIP_DOMAIN="${SIP_DOMAIN:-pyser.example}"
export SER_CFG="$DEMO_DIR/ser.cfg" PID_FILE="$DEMO_DIR/ser.pid" SER="$BIN/ser"
# examples/demo.cfg with this demo's sockets, FIFO and database file.
{
    printf 'listen=udp:127.0.0.1:%s\nlisten=tcp:127.0.0.1:%s\nfifo="%s/ser_fifo"\nfifo_dir="%s/"\n' \
        "$PORT" "$PORT" "$DEMO_DIR" "$DEMO_DIR"
    sed "s|sqlite:///ser.db|$SER_DB_URL|" "$REPO/examples/demo.cfg"
} > "$SER_CFG"
if [ ! -f "$DEMO_DIR/ser.db" ]; then
    "$BIN/serctl" db create
    "$BIN/serctl" add alice alice-secret alice@pyser.example
    "$BIN/serctl" add bob bob-secret bob@pyser.example
fi
"$BIN/serctl" start
cat <<TEXT
pyser demo: SER on sip:127.0.0.1:$PORT (UDP and TCP), users in $SER_DB_URL
  point a phone at registrar/proxy 127.0.0.1:$PORT, any domain:
    user alice  password alice-secret
    user bob    password bob-secret
  then call bob from alice (sip:bob@<the domain>).
  watch it:   SER_CFG=$SER_CFG PID_FILE=$PID_FILE $BIN/serctl moni
  more users: SER_CFG=$SER_CFG $BIN/serctl add USER PASSWORD EMAIL
  stop it:    SER_CFG=$SER_CFG PID_FILE=$PID_FILE $BIN/serctl stop
TEXT
