#!/usr/bin/env bash
# The CLI as a user runs it: help for every subcommand, config layering and errors, migrate
# up/down/status round trip, and serve's first run (admin printed once, var/ reused).
set -euo pipefail
vigil=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
cd "$tmp"
pass=0
fail=0
check() {  # check NAME COMMAND... ; passes when the command succeeds
  local name=$1; shift
  if "$@" >/dev/null 2>&1; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $name"; fi
}

for cmd in "" serve migrate "migrate up" "migrate down" "migrate status" config "config show" openapi version \
           user "user add" "user list" "user passwd" "user role" model "model push" "model list" \
           device "device add" "device list" "device show" "device enroll" \
           alarm "alarm list" "alarm ack" "alarm clear" \
           rollout "rollout start" "rollout list" "rollout show" "rollout devices" \
           "rollout pause" "rollout resume" "rollout abort" agent worker detect; do
  # shellcheck disable=SC2086
  check "help $cmd" "$vigil" $cmd --help
done

# Configuration layers: default < vigil.toml < .env < environment < flags.
check "default port" grep -q 'server.port = "8080"  # default' <("$vigil" config show)
printf '[server]\nport = 9001\n' > vigil.toml
check "toml port" grep -q 'server.port = "9001"  # vigil.toml' <("$vigil" config show)
printf 'VIGIL_SERVER__PORT=9002\n' > .env
check "dotenv port" grep -q 'server.port = "9002"' <("$vigil" config show)
check "env port" grep -q 'server.port = "9003"' <(VIGIL_SERVER__PORT=9003 "$vigil" config show)
check "flag port" grep -q 'server.port = "9004"  # flag' <(VIGIL_SERVER__PORT=9003 "$vigil" config show --set server.port=9004)
check "secret masked" grep -q 'admin_password = "\*\*\*"' <(VIGIL_ADMIN_PASSWORD=hunter2hunter2 "$vigil" config show)
check "url password masked" grep -q 'postgresql://u:\*\*\*@h/db' <(VIGIL_DATABASE__URL=postgresql://u:secret@h/db "$vigil" config show)
check "client variables are no settings" bash -c "VIGIL_URL=http://h:1 VIGIL_TOKEN=t '$vigil' config show >/dev/null"
check "no secret leak" bash -c "! VIGIL_ADMIN_PASSWORD=hunter2hunter2 '$vigil' config show | grep -q hunter2"
rm -f vigil.toml .env
printf '[server]\nprot = 1\n' > vigil.toml
check "unknown toml key named" bash -c "'$vigil' config show 2>&1 | grep -q \"unknown key 'server.prot'\""
check "unknown toml key exits 2" bash -c "'$vigil' config show; test \$? -eq 2"
rm -f vigil.toml
check "unknown env named" bash -c "VIGIL_SERVER__BOGUS=1 '$vigil' config show 2>&1 | grep -q VIGIL_SERVER__BOGUS"
check "bad value named" bash -c "VIGIL_SERVER__PORT=http '$vigil' config show 2>&1 | grep -q 'server.port: expected an integer'"
check "serve refuses bad config" bash -c "VIGIL_SERVER__PORT=99999 '$vigil' serve; test \$? -eq 2"

# Migrations round trip.
check "migrate status pending" grep -q pending <("$vigil" migrate status --data-dir m)
check "migrate up" grep -q "schema version" <("$vigil" migrate up --data-dir m)
check "migrate status applied" bash -c "'$vigil' migrate status --data-dir m | grep -q applied"
check "migrate down" grep -q "reverted 1" <("$vigil" migrate down --data-dir m)
check "migrate up again" grep -q "applied 1" <("$vigil" migrate up --data-dir m)

# Users on the CLI, against the same store.
check "user add needs a schema" bash -c "! '$vigil' user list --data-dir fresh"
check "user add" grep -q "created user" <(echo password-123 | "$vigil" user add ops@example.com --role watchdog --data-dir m)
check "user add from stdin" grep -q "created user" <(echo "password-456" | "$vigil" user add dev@example.com --data-dir m)
check "user add duplicate fails" bash -c "! echo password-123 | '$vigil' user add OPS@example.com --data-dir m"
check "user add weak password exits 2" bash -c "echo short | '$vigil' user add w@example.com --data-dir m; test \$? -eq 2"
check "user list" grep -q "ops@example.com.*watchdog" <("$vigil" user list --data-dir m)
check "user add --username" grep -q "created user" <(echo password-123 | "$vigil" user add ann@example.com --username Ann.Lee --data-dir m)
check "user list shows usernames" grep -q "ann@example.com *Ann.Lee *user" <("$vigil" user list --data-dir m)
check "user list shows no username as -" grep -q "dev@example.com *- *user" <("$vigil" user list --data-dir m)
check "user add taken username fails" bash -c "! echo password-123 | '$vigil' user add bo@example.com --username ann.lee --data-dir m"
check "user add bad username exits 2" bash -c "echo password-123 | '$vigil' user add bo@example.com --username 'a b' --data-dir m; test \$? -eq 2"
check "user role" grep -q "now admin" <("$vigil" user role dev@example.com admin --data-dir m)
check "user passwd" grep -q "changed" <("$vigil" user passwd dev@example.com --password password-789 --data-dir m)
check "user role unknown" bash -c "! '$vigil' user role nobody@example.com user --data-dir m"

# Models on the CLI: pushed files are checked by their runtime in a child process.
models=$here/data/models
check "model push" grep -q "stored diabetes version 1" <("$vigil" model push "$models/diabetes.ubj" --name diabetes --kind xgboost --data-dir m)
check "model push next version" grep -q "version 2" <("$vigil" model push "$models/diabetes.json" --name Diabetes --metadata '{"price_per_row":0.5}' --data-dir m)
echo '{"weights":[1,2],"bias":0.5}' > lin.json
check "model push metadata file" grep -q "stored lin version 1" <(echo '{"features":["a","b"]}' > meta.json; "$vigil" model push lin.json --name lin --kind linear --metadata @meta.json --data-dir m)
head -c 3000 /dev/urandom > junk.bin
check "model push junk exits 2" bash -c "'$vigil' model push junk.bin --name junk --kind xgboost --data-dir m; test \$? -eq 2"
check "model push unknown kind exits 2" bash -c "'$vigil' model push lin.json --name x --kind nope --data-dir m; test \$? -eq 2"
check "model push new model needs kind" bash -c "! '$vigil' model push lin.json --name y --data-dir m"
check "model list" grep -q "diabetes.*xgboost.*2" <("$vigil" model list --data-dir m)
check "model list no junk" bash -c "! '$vigil' model list --data-dir m | grep -q junk"

# First run: admin created once, password printed once, var/ reused.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$vigil" serve --port "$port" --set log.format=json > out1.txt 2> err1.txt & pid=$!
for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.05; done
check "first run ready" curl -sf "http://127.0.0.1:$port/readyz"
check "password printed" grep -q "Password (shown once" out1.txt
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=""
check "clean exit on SIGTERM" test "$rc" -eq 0
check "stopped cleanly logged" grep -q "stopped cleanly" err1.txt
check "var reused" test -f var/vigil.db
check "log file written" test -s var/logs/vigil.log
check "access log written" grep -q '"path":"/readyz"' var/logs/access.log
"$vigil" serve --port "$port" > out2.txt 2> err2.txt & pid=$!
for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.05; done
check "second run ready" curl -sf "http://127.0.0.1:$port/readyz"
check "password not printed again" bash -c "! grep -q Password out2.txt"
kill -INT "$pid"; wait "$pid"; rc=$?; pid=""
check "clean exit on SIGINT" test "$rc" -eq 0

# A worker on the server's data dir runs until SIGTERM, then exits 0; on a store that was never
# migrated it refuses to start and says what to do.
"$vigil" worker --concurrency 1 > wout.txt 2> werr.txt & pid=$!
for _ in $(seq 1 100); do grep -q "task thread" werr.txt && break; sleep 0.05; done
check "worker running" grep -q "vigil worker running 1 task thread" werr.txt
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=""
check "worker clean exit on SIGTERM" test "$rc" -eq 0
rc=0; "$vigil" worker --data-dir fresh > /dev/null 2> werr2.txt || rc=$?
check "worker refuses an unmigrated store" test "$rc" -eq 1
check "worker says how to migrate" grep -q "vigil migrate up" werr2.txt

# detect --nab: every CSV below the data dir scored into NAB's results layout, one row per row.
mkdir -p nab/cat/sub
{ echo timestamp,value; for i in $(seq 0 999); do echo "2015-01-01 $i,$(( (i * 37) % 101 ))"; done; } > nab/cat/a.csv
printf 'timestamp,value\r\n1,5\r\n2,\r\n3,7\r\n' > nab/cat/sub/b.csv
check "detect --nab runs" "$vigil" detect --nab nab --out res
check "detect header" grep -qx 'timestamp,value,anomaly_score' res/cat/vigil_a.csv
check "detect one row per row" test "$(wc -l < res/cat/vigil_a.csv)" -eq 1001
check "detect keeps the layout" test "$(wc -l < res/cat/sub/vigil_b.csv)" -eq 4
check "detect scores in [0, 1]" awk -F, 'NR > 1 && !($3 >= 0 && $3 <= 1) { exit 1 }' res/cat/vigil_a.csv
printf 'timestamp,value\n1,abc\n' > nab/cat/bad.csv
check "detect refuses a bad CSV, naming the line" bash -c "'$vigil' detect --nab nab --out res2 2>&1 | grep -q 'bad.csv: line 2'"
check "detect bad CSV exits 2" bash -c "'$vigil' detect --nab nab --out res2; test \$? -eq 2"
check "detect needs --out" bash -c "! '$vigil' detect --nab nab"

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
