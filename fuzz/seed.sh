#!/usr/bin/env bash
# Fills each target's working corpus (corpus/TARGET, not committed) with the
# committed seeds (seeds/TARGET), the example configuration for config_parse
# and, for SIP, the RFC 4475 torture messages from ../../shared/sip-torture
# when that folder exists. Run from anywhere.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
for seeds in "$here"/seeds/*/; do
    target="$(basename "$seeds")"
    mkdir -p "$here/corpus/$target"
    cp -n "$seeds"* "$here/corpus/$target/"
done
mkdir -p "$here/corpus/config_parse"
cp -n "$here/../config/acdd.toml" "$here/corpus/config_parse/"
torture="$here/../../shared/sip-torture"
if [ -d "$torture" ]; then
    mkdir -p "$here/corpus/sip_message"
    cp -n "$torture"/*.dat "$here/corpus/sip_message/"
fi
ls "$here/corpus" | while read -r target; do
    echo "$target: $(ls "$here/corpus/$target" | wc -l) inputs"
done
