#!/usr/bin/env bash
# An auditor's walkthrough with esr: what is in production, how it got there, what it looked like at a point in
# time, whether the record is intact, and an export to hand over. Run against a registry that has data, e.g. after
# `dotnet run --project samples/pipeline` twice:
#
#   ESR_SERVER=http://localhost:5000 ESR_API_KEY=<an auditor's key> samples/auditor.sh [model] [instant]
#
# The key needs the auditor role (reads, the audit log, verify, export) and nothing more; an admin makes one with
# `esr keys create alice-audit --owner alice@example.com --grant auditor`. The instant (RFC 3339, with an offset:
# 2026-03-03T14:00:00Z) defaults to the model's first event, so there is a state to show then. What a rollback to that
# point would change is a release manager's question (`esr rollback <model> --to <instant> --dry-run`, contributor role).
set -euo pipefail

MODEL="${1:-demand}"

if [ -z "${ESR_API_KEY:-}" ]; then
  echo "Set ESR_API_KEY to an auditor's key (every call but health needs credentials)." >&2
  exit 1
fi

if command -v esr >/dev/null 2>&1; then
  ESR=(esr)
else
  # No esr installed: build it once and run the build output (`dotnet run` would check the build on every call).
  CLI="$(dirname "$0")/../src/EventSourcedRegistry.Cli"
  dotnet build "$CLI" -nologo -v q >/dev/null
  ESR=(dotnet "$(dotnet msbuild "$CLI" -nologo -getProperty:TargetPath)")
fi

step() { printf '\n== %s\n' "$*"; }

errors="$(mktemp)"
trap 'rm -f "$errors"' EXIT

# esr exits with 2 on 404. For a question about the past that is an answer (the model or the alias did not exist
# then), printed as the given line; any other failure stops the walkthrough with esr's message.
or_none() {
  local none="$1" code=0
  shift
  "${ESR[@]}" "$@" 2>"$errors" || code=$?
  if [ "$code" -eq 2 ]; then echo "$none"; return 0; fi
  cat "$errors" >&2
  return "$code"
}

if [ -n "${2:-}" ]; then
  AT="$2"
else
  if ! events="$("${ESR[@]}" history "$MODEL" --output json)"; then
    echo "No history of $MODEL to audit: run samples/pipeline first, or name a model as the first argument." >&2
    exit 1
  fi
  # The first event's timestamp (history is oldest first).
  [[ $events =~ \"timestamp\":\ *\"([^\"]+)\" ]] && AT="${BASH_REMATCH[1]}"
  if [ -z "${AT:-}" ]; then echo "$MODEL has no events to audit." >&2; exit 1; fi
fi

step "Every model's stages, aliases and deployments now"
"${ESR[@]}" registry

step "$MODEL now, and its versions"
"${ESR[@]}" state "$MODEL"
"${ESR[@]}" versions list "$MODEL"

step "Who moved what, and why (every event of $MODEL)"
"${ESR[@]}" history "$MODEL"

step "$MODEL as it stood at $AT"
or_none "(no $MODEL at $AT)" state "$MODEL" --as-of "$AT"

step "Which version the champion alias named then, as JSON for a script"
or_none "(no champion at $AT)" alias show "$MODEL" champion --as-of "$AT" --output json

step "Stage, alias and deployment changes since $AT"
"${ESR[@]}" changes --from "$AT"

step "The audit log of $MODEL, and whether the hash chain is intact"
"${ESR[@]}" audit --model "$MODEL"
"${ESR[@]}" verify

step "An export to hand over"
"${ESR[@]}" audit --model "$MODEL" --export csv --out "audit-$MODEL.csv"
