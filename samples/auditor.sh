#!/usr/bin/env bash
# An auditor's walkthrough with esr: what is in production, how it got there, what it looked like at a point in
# time, whether the record is intact, and an export to hand over. Run against a registry that has data, e.g. after
# `dotnet run --project samples/pipeline` twice:
#
#   ESR_SERVER=http://localhost:5000 ESR_API_KEY=<an auditor's key> samples/auditor.sh [model] [instant]
#
# The key needs the auditor role (reads, the audit log, verify, export); an admin makes one with
# `esr keys create alice-audit --owner alice@example.com --grant auditor`.
set -euo pipefail

MODEL="${1:-demand}"
AT="${2:-$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)}"
ESR=(dotnet run --project "$(dirname "$0")/../src/EventSourcedRegistry.Cli" --)
if command -v esr >/dev/null 2>&1; then ESR=(esr); fi

step() { printf '\n== %s\n' "$*"; }

if [ -z "${ESR_API_KEY:-}" ]; then
  echo "Set ESR_API_KEY to an auditor's key (every call but health needs credentials)." >&2
  exit 1
fi

step "Every model's stages, aliases and deployments now"
"${ESR[@]}" registry

step "$MODEL now, and its versions"
"${ESR[@]}" state "$MODEL"
"${ESR[@]}" versions list "$MODEL"

step "Who moved what, and why (every event of $MODEL)"
"${ESR[@]}" history "$MODEL"

step "$MODEL as it stood at $AT"
"${ESR[@]}" state "$MODEL" --as-of "$AT" || echo "(no $MODEL at $AT)"

step "Which version the champion alias named then, as JSON for a script"
"${ESR[@]}" alias show "$MODEL" champion --as-of "$AT" --output json || echo "(no champion at $AT)"

step "Stage, alias and deployment changes since $AT"
"${ESR[@]}" changes --from "$AT"

step "The audit log of $MODEL, and whether the hash chain is intact"
"${ESR[@]}" audit --model "$MODEL"
"${ESR[@]}" verify

step "An export to hand over"
"${ESR[@]}" audit --model "$MODEL" --export csv --out "audit-$MODEL.csv"

step "What a rollback to $AT would do (dry run: nothing changes)"
"${ESR[@]}" rollback "$MODEL" --to "$AT" --reason "audit what-if" --dry-run || true
