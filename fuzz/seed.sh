#!/usr/bin/env bash
# Fills each target's working corpus (corpus/TARGET, not committed) with the
# committed seeds (seeds/TARGET), the corpus a long run left (corpora/
# TARGET.tar.xz: libFuzzer's -merge=1 of it, so a new run goes on from
# there instead of from the seeds), the example configuration for
# config_parse and, for SIP, the RFC 4475 torture messages from
# ../../shared/sip-torture when that folder exists. Run from anywhere.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
for seeds in "$here"/seeds/*/; do
    target="$(basename "$seeds")"
    mkdir -p "$here/corpus/$target"
    cp -n "$seeds"* "$here/corpus/$target/"
done
for archive in "$here"/corpora/*.tar.xz; do
    [ -e "$archive" ] || continue
    target="$(basename "$archive" .tar.xz)"
    mkdir -p "$here/corpus/$target"
    tar -xJf "$archive" -C "$here/corpus/$target" --skip-old-files
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
