#!/usr/bin/env bash
# Regenerates the pre-workspaces store fixture (store.sql, answers.json, keys.json) from a commit of the registry
# built before workspaces: usage `make-fixture.sh [<commit>]` (default: the last commit before tenancy, whose store the fixture holds).
# It builds that commit's API in a temporary folder, runs it against a throwaway PostgreSQL, writes a history through
# the HTTP API, records answers, stops the API and dumps the registry schema as plain SQL (inserts, no psql commands,
# so the test loads it with Npgsql). Needs: git, the .NET SDK, PostgreSQL 15 server binaries, curl, jq, python3.
set -euo pipefail

COMMIT=${1:-9f91e81}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(git -C "$HERE" rev-parse --show-toplevel)
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
WORK=$(mktemp -d)
chmod 755 "$WORK"
API_PID= PG_STARTED=

as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cleanup() {
  if [ -n "$API_PID" ]; then kill -INT "$API_PID" 2>/dev/null || true; wait "$API_PID" 2>/dev/null || true; fi
  if [ -n "$PG_STARTED" ]; then as_postgres "$PGBIN/pg_ctl" -D "$WORK/pg" -m fast stop >/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "building the API of $COMMIT"
mkdir "$WORK/src"
git -C "$REPO" archive "$COMMIT" | tar -x -C "$WORK/src"
dotnet build "$WORK/src/src/EventSourcedRegistry.Api" -c Release -nologo -v q >/dev/null
DLL="$WORK/src/src/EventSourcedRegistry.Api/bin/Release/net10.0/EventSourcedRegistry.Api.dll"

echo "starting PostgreSQL"
PGPORT=$(free_port)
mkdir "$WORK/pg" "$WORK/sock"
[ "$(id -u)" = 0 ] && chown postgres "$WORK/pg" "$WORK/sock"
as_postgres "$PGBIN/initdb" -D "$WORK/pg" -A trust -U postgres --no-sync -E UTF8 --locale=C.UTF-8 >/dev/null
as_postgres "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/sock/log" -w \
  -o "-p $PGPORT -k $WORK/sock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off" start >/dev/null
PG_STARTED=1
as_postgres "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres registry

ADMIN="esr_bootstrap_fixture-admin-secret-that-is-long-enough-0123456789"
PORT=$(free_port)
B="http://127.0.0.1:$PORT/api/v1"
echo "starting the API"
( cd "$(dirname "$DLL")" && \
  ASPNETCORE_ENVIRONMENT=Production \
  ConnectionStrings__Registry="Host=127.0.0.1;Port=$PGPORT;Username=postgres;Database=registry" \
  Registry__BootstrapAdminKey="$ADMIN" \
  Registry__DataDirectory="$WORK/data" \
  Registry__Artifacts__Directory="$WORK/artifacts" \
  Registry__Audit__CheckpointInterval=00:00:00 \
  Registry__RateLimits__Enabled=false \
  Registry__TimeTravel__SnapshotEvery=5 \
  exec dotnet "$DLL" --urls "http://127.0.0.1:$PORT" >"$WORK/api.log" 2>&1 ) &
API_PID=$!
for _ in $(seq 1 180); do curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break; sleep 1; done
curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null || { cat "$WORK/api.log"; exit 1; }

J='content-type: application/json'
# call <key> <method> <path> [body]: the body of a call that must succeed
call() {
  local key=$1 method=$2 path=$3 body=${4:-}
  local args=(-s -o "$WORK/out" -w '%{http_code}' -X "$method" "$B$path" -H "Authorization: ApiKey $key")
  [ -n "$body" ] && args+=(-H "$J" -d "$body")
  local status; status=$(curl "${args[@]}")
  case $status in 2*) cat "$WORK/out" ;; *) echo "$method $path -> $status $(cat "$WORK/out")" >&2; exit 1 ;; esac
}
newkey() { call "$ADMIN" POST /admin/keys "$1" | jq -r .key; }
sha() { printf '%064d' "$1" | tr 0 "$2"; }

echo "writing the history"
DEV=$(newkey '{"name":"dev","owner":"dev@example.com","grants":[{"role":"contributor"}]}')
REV=$(newkey '{"name":"reviewer","owner":"reviewer@example.com","grants":[{"role":"approver"}]}')
AUD=$(newkey '{"name":"auditor","owner":"audit@example.com","grants":[{"role":"auditor"}]}')
GONE=$(newkey '{"name":"temp","owner":"temp@example.com","grants":[{"role":"reader"}]}')
GONE_ID=$(call "$ADMIN" GET /admin/keys | jq -r '.[] | select(.name=="temp") | .id' 2>/dev/null || true)
[ -n "$GONE_ID" ] || GONE_ID=$(call "$ADMIN" GET /admin/keys | jq -r '.items[] | select(.name=="temp") | .id')
call "$ADMIN" DELETE "/admin/keys/$GONE_ID?reason=no%20longer%20needed" >/dev/null

call "$DEV" POST /models '{"name":"churn","description":"who leaves","tags":{"team":"growth"}}' >/dev/null
call "$DEV" POST /models '{"name":"fraud","tags":{"team":"risk"}}' >/dev/null
call "$DEV" POST /models '{"name":"demand","tags":{"team":"supply","tier":"2"}}' >/dev/null
SCOPED=$(newkey '{"name":"churn-reader","owner":"pipeline@example.com","grants":[{"role":"reader","model":"churn"}]}')
call "$ADMIN" PUT /models/churn/metadata-schema \
  '{"schema":{"type":"object","required":["owner"],"properties":{"owner":{"type":"string"}}},"reason":"owners on every version"}' >/dev/null

printf 'the bytes of churn v1, an onnx file in real life' > "$WORK/artifact.bin"
ART=$(curl -s -X POST "$B/artifacts" -H "Authorization: ApiKey $DEV" -H 'content-type: application/octet-stream' \
  --data-binary @"$WORK/artifact.bin" | jq -r .sha256)
call "$DEV" POST /models/churn/versions "{\"artifact\":{\"sha256\":\"$ART\"},\"lineage\":{\"runId\":\"41\",\"sourceCommit\":\"abc123\"},\"metrics\":{\"auc\":0.89},\"metadata\":{\"owner\":\"ana\"}}" >/dev/null
call "$DEV" POST /models/churn/versions "{\"artifact\":{\"uri\":\"s3://models/churn/2.onnx\",\"sha256\":\"$(sha 0 c)\",\"sizeBytes\":2048},\"metrics\":{\"auc\":0.91},\"metadata\":{\"owner\":\"ana\"}}" >/dev/null
for v in 1 2 3; do
  call "$DEV" POST /models/fraud/versions "{\"artifact\":{\"uri\":\"s3://models/fraud/$v.onnx\",\"sha256\":\"$(sha 0 $v)\",\"sizeBytes\":$((v*100))},\"params\":{\"depth\":\"$v\"}}" >/dev/null
done
call "$DEV" POST /models/demand/versions "{\"artifact\":{\"uri\":\"s3://models/demand/1.onnx\",\"sha256\":\"$(sha 0 d)\",\"sizeBytes\":77}}" >/dev/null

call "$DEV" POST /models/churn/versions/1/stage '{"stage":"Staging","reason":"first candidate"}' >/dev/null
call "$DEV" PATCH /models/churn/versions/1 '{"description":"baseline","setTags":{"dataset":"2026-11"},"metadata":{"owner":"ana","notes":"checked"}}' >/dev/null
call "$DEV" PATCH /models/churn '{"setTags":{"slack":"#churn"}}' >/dev/null
REQ=$(call "$DEV" POST /models/churn/versions/1/stage '{"stage":"Production","reason":"beats the rules","archiveExisting":true}' | jq -r .id)
call "$REV" POST "/models/churn/requests/$REQ/approve" '{"reason":"eval report checked"}' >/dev/null
CREQ=$(call "$DEV" PUT /models/churn/aliases/champion '{"version":1}' | jq -r .id)
call "$REV" POST "/models/churn/requests/$CREQ/approve" '{"reason":"same as production"}' >/dev/null
REJ=$(call "$DEV" POST /models/churn/versions/2/stage '{"stage":"Production","reason":"slightly better"}' | jq -r .id)
call "$REV" POST "/models/churn/requests/$REJ/reject" '{"reason":"needs a bias review"}' >/dev/null
call "$DEV" POST /models/churn/deployments '{"version":1,"environment":"prod","target":"k8s/eu-west","action":"deployed","reason":"release 12"}' >/dev/null

call "$DEV" POST /models/fraud/versions/1/stage '{"stage":"Staging"}' >/dev/null
call "$DEV" PUT /models/fraud/aliases/candidate '{"version":1}' >/dev/null
BEFORE_ROLLBACK=$(call "$ADMIN" GET /models/fraud/history | jq '[.items[].sequence] | max')
call "$DEV" POST /models/fraud/versions/2/stage '{"stage":"Staging","archiveExisting":true,"reason":"v2 looks better"}' >/dev/null
call "$DEV" PUT /models/fraud/aliases/candidate '{"version":2}' >/dev/null
call "$DEV" POST /models/fraud/deployments '{"version":2,"environment":"staging","action":"deployed"}' >/dev/null
MID=$(call "$ADMIN" GET /models/fraud/history | jq -r '.items[-1].timestamp')
sleep 1
call "$DEV" POST /models/fraud/rollback "{\"atSequence\":$BEFORE_ROLLBACK,\"reason\":\"v2 regressed\"}" >/dev/null
call "$DEV" POST /models/fraud/rename '{"newName":"fraud-detector","reason":"clearer"}' >/dev/null
call "$DEV" POST /models/fraud-detector/versions/3/stage '{"stage":"Archived","reason":"never used"}' >/dev/null
call "$DEV" POST /models/demand/archive '{"reason":"replaced by the forecast service"}' >/dev/null
call "$DEV" PUT /models/churn/aliases/latest-good '{"version":2,"reason":"unprotected alias"}' >/dev/null
call "$DEV" DELETE "/models/churn/aliases/latest-good?reason=not%20yet" >/dev/null

# left pending: the upgrade test approves it with the old reviewer key
call "$DEV" POST /models/churn/versions/2/stage '{"stage":"Production","reason":"bias review done"}' | jq -r .id > "$WORK/pending"

echo "waiting for the async projections"
for _ in $(seq 1 120); do
  lag=$(call "$ADMIN" GET /admin/projections | jq '[.. | objects | select(has("lag")) | .lag] | max // 0')
  [ "$lag" = 0 ] && break; sleep 1
done
sleep 2

# Answers: what each call answered, with which key; the upgrade test asks them again and expects the same.
MIDSEQ=$((BEFORE_ROLLBACK + 2))
declare -A KEYS=([admin]=$ADMIN [dev]=$DEV [reviewer]=$REV [auditor]=$AUD [churn-reader]=$SCOPED [temp]=$GONE)
echo '[]' > "$WORK/answers.json"
answer() {
  local name=$1 key=$2 path=$3
  local status; status=$(curl -s -o "$WORK/out" -w '%{http_code}' "$B$path" -H "Authorization: ApiKey ${KEYS[$key]}")
  jq --arg n "$name" --arg k "$key" --arg p "$path" --argjson s "$status" --slurpfile b "$WORK/out" \
    '. + [{name: $n, key: $k, path: $p, status: $s, body: $b[0]}]' "$WORK/answers.json" > "$WORK/a.tmp"
  mv "$WORK/a.tmp" "$WORK/answers.json"
}
MIDQ=$(jq -rn --arg t "$MID" '$t | @uri')
answer model-churn admin /models/churn
answer model-renamed dev /models/fraud-detector
answer model-archived dev /models/demand
answer versions dev /models/churn/versions
answer version-with-artifact dev /models/churn/versions/1
answer alias-scoped churn-reader /models/churn/aliases/champion
answer model-as-of-sequence dev "/models/fraud-detector?atSequence=$MIDSEQ"
answer model-as-of-instant dev "/models/fraud-detector?asOf=$MIDQ"
answer history-churn auditor /models/churn/history
answer history-fraud dev /models/fraud-detector/history
answer history-as-of-sequence dev "/models/fraud-detector/history?atSequence=$MIDSEQ"
answer deployments-churn dev /models/churn/deployments
answer deployments-fraud dev /models/fraud-detector/deployments
answer deployments-as-of-instant dev "/models/fraud-detector/deployments?asOf=$MIDQ"
answer registry dev /registry
answer registry-as-of-sequence dev "/registry?atSequence=$MIDSEQ"
answer registry-as-of-instant dev "/registry?asOf=$MIDQ"
answer registry-changes auditor "/registry/changes?from=0"
answer requests reviewer /models/churn/requests
answer models dev /models?includeArchived=true
answer audit auditor "/audit?limit=1000"
answer audit-model auditor "/audit?model=fraud&limit=1000"
answer audit-verify auditor /audit/verify
answer audit-verify-full auditor "/audit/verify?full=true"
answer keys admin /admin/keys
answer revoked-key temp /models/churn
answer scoped-key-elsewhere churn-reader /models/fraud-detector
cp "$WORK/answers.json" "$HERE/answers.json"
jq -n --arg admin "$ADMIN" --arg dev "$DEV" --arg reviewer "$REV" --arg auditor "$AUD" --arg scoped "$SCOPED" --arg temp "$GONE" \
  --arg commit "$(git -C "$REPO" rev-parse "$COMMIT")" \
  --arg pending "$(cat "$WORK/pending")" \
  '{commit: $commit, pendingRequest: $pending, admin: $admin, dev: $dev, reviewer: $reviewer, auditor: $auditor, "churn-reader": $scoped, temp: $temp}' > "$HERE/keys.json"
mkdir -p "$HERE/artifacts/sha256"
cp "$WORK/artifact.bin" "$HERE/artifacts/sha256/$ART"

echo "stopping the API and dumping the store"
kill -INT "$API_PID"; wait "$API_PID" || true; API_PID=
as_postgres "$PGBIN/pg_dump" -h 127.0.0.1 -p "$PGPORT" -U postgres -d registry --schema=registry \
  --no-owner --no-privileges --inserts --rows-per-insert=200 \
  | grep -v -E '^\\(restrict|unrestrict)' | grep -v -E '^--( |$)|^$' > "$HERE/store.sql"
echo "events: $(grep -c '' "$HERE/store.sql") lines of SQL, $(wc -c < "$HERE/store.sql") bytes; answers: $(jq length "$HERE/answers.json")"
