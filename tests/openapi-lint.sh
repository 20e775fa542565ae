#!/usr/bin/env bash
# Validates the OpenAPI document the binary serves with an npm OpenAPI 3.1 validator.
set -euo pipefail
vigil=$1
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
VIGIL_ADMIN_PASSWORD=lint-password-1 "$vigil" openapi --data-dir "$tmp/var" --set log.file= > "$tmp/openapi.json"
node "$root/web/scripts/validate-openapi.mjs" "$tmp/openapi.json"
