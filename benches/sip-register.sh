#!/usr/bin/env bash
# Benchmark (not a test): REGISTER/s with digest auth (MD5, qop=auth), driven
# by SIPp against the release build of acdd, and the same load against
# Kamailio's in-memory registrar (usrloc + auth, pv_www_authenticate) as the
# reference in the same run. Each rate runs for SECONDS seconds. Prints per
# rate the registrations completed, failed, achieved per second and the CPU
# time per registration (from /proc, user+system, Kamailio's workers
# included), then the best clean throughput and the median CPU time of each,
# as ratios acdd/Kamailio.
#
# Usage: benches/sip-register.sh [SECONDS] [RATES...]   (loopback only)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
shift || true
rates=("$@")
[ ${#rates[@]} -gt 0 ] || rates=(1000 2000 4000 6000 8000)
work=$(mktemp -d)
source benches/calls-lib.sh
require sipp sip-tester
require kamailio kamailio
cargo build --release --quiet
trap 'kill $element 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
scenario="$PWD/benches/sipp/register_load.xml"

# run_rates NAME PORT: prints "rate ok failed cpu_ms_per_registration" per rate.
run_rates() {
  local name=$1 target=$2
  for rate in "${rates[@]}"; do
    local total=$((rate * seconds)) before after out ok failed started ended
    before=$(ticks "$element")
    started=$(date +%s.%N)
    out=$(cd "$work" && timeout $((seconds * 3 + 30)) sipp -sf "$scenario" -au alice -ap alice-secret -s alice \
      -r "$rate" -m "$total" -l $((rate * 2)) -i 127.0.0.1 -p "$(port)" -buff_size 4194304 -timeout $((seconds * 3 + 20))s \
      -nostdin -nd "127.0.0.1:$target" 2>&1 || true)
    ended=$(date +%s.%N)
    after=$(ticks "$element")
    ok=$(echo "$out" | awk -F'|' '/Successful call/ {gsub(/ /,"",$3); print $3}' | tail -1)
    failed=$(echo "$out" | awk -F'|' '/Failed call/ {gsub(/ /,"",$3); print $3}' | tail -1)
    ok=${ok:-0}; failed=${failed:-$total}
    local cpu_us=$(( (after - before) * 1000000 / hz ))
    local per=$(awk -v c="$cpu_us" -v n="$ok" 'BEGIN { if (n > 0) printf "%.1f", c / n; else print "-" }')
    local achieved=$(awk -v n="$ok" -v a="$started" -v b="$ended" 'BEGIN { printf "%.0f", n / (b - a) }')
    echo "$name rate=$rate ok=$ok failed=$failed cpu_us_per_registration=$per achieved_per_second=$achieved"
  done
}

acdd_port=$(port)
cat > "$work/acdd.toml" <<TOML
[listen]
sip_udp = "127.0.0.1:$acdd_port"
[storage]
sqlite = "$work/data/acdd.db"
[sip]
qualify_interval_seconds = 0
requests_per_second_per_source = 0
[[operators]]
id = "alice"
sip_username = "alice"
sip_password = "alice-secret"
TOML
ACDD_LOG=warn ./target/release/acdd run --config "$work/acdd.toml" 2>"$work/acdd.log" &
element=$!
sleep 1
run_rates acdd "$acdd_port" | tee "$work/acdd.result"
kill "$element"; wait "$element" 2>/dev/null || true

kam_port=$(port)
modules=/usr/lib/x86_64-linux-gnu/kamailio/modules
cat > "$work/kamailio.cfg" <<KAM
#!KAMAILIO
children=2
listen=udp:127.0.0.1:$kam_port
auto_aliases=no
maxbuffer=4194304
dns=no
rev_dns=no
mpath="$modules"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
loadmodule "textops.so"
modparam("usrloc", "db_mode", 0)
request_route {
    if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
    if (is_method("REGISTER")) {
        if (!pv_www_authenticate("acdd", "alice-secret", "0")) { www_challenge("acdd", "1"); exit; }
        save("location");
        exit;
    }
    sl_send_reply("404", "Not Here");
}
KAM
kamailio -f "$work/kamailio.cfg" -DD -E -m 2048 -M 32 -x fm -n 2 >"$work/kamailio.log" 2>&1 &
element=$!
sleep 2
run_rates kamailio "$kam_port" | tee "$work/kamailio.result"
kill "$element"; wait "$element" 2>/dev/null || true

# Summaries: the best throughput reached in a run without failures, and the
# median CPU time per registration over all rates (steadier than throughput
# on a machine shared with other work).
best() { awk '$4=="failed=0" {split($6,r,"="); if (r[2]+0 > m) m = r[2]+0} END {print m+0}' "$1"; }
median_cpu() { awk '{split($5,c,"="); if (c[2] != "-") print c[2]}' "$1" | sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
a=$(best "$work/acdd.result"); k=$(best "$work/kamailio.result")
ca=$(median_cpu "$work/acdd.result"); ck=$(median_cpu "$work/kamailio.result")
echo "best clean throughput: acdd $a REGISTER/s, kamailio $k REGISTER/s (acdd/kamailio $(ratio "$a" "$k"))"
echo "median CPU per registration: acdd $ca us, kamailio $ck us (acdd/kamailio $(ratio "$ca" "$ck"))"
