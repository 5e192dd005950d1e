#!/usr/bin/env bash
# Benchmark (not a test): queue calls per second through acdd, with
# Kamailio as a plain stateful proxy between the same SIPp caller and the same
# SIPp phones as the reference, in the same run (benches/README.md).
#
# acdd: a SIPp trunk caller (benches/sipp/call_caller.xml) calls the queue
# number; acdd stores and queues the call, rings an operator (evenly over
# OPERATORS operators, one call each, registered with digest auth by
# benches/register_operators.py, their Contacts spread over PHONES SIPp
# processes running benches/sipp/call_operator.xml), the phone answers at
# once (200, no 180), acdd bridges, the caller talks TALK_MS ms (no RTP) and
# hangs up; acdd sends BYE to the operator.
# Kamailio: the same caller and phones; Kamailio relays statefully (tm,
# record_route, in-dialog requests by loose_route) to the phones round robin
# (dispatcher).
#
# Each side runs its rates in turn, SECONDS seconds each, and stops after the
# first rate that is not clean: 1 % failed calls or more, or more than 1 % of
# the calls answered (INVITE sent to 200 received at the caller) after 1 s. Per rate it prints calls completed
# and failed, calls/s achieved (completed calls over the time SIPp spent
# sending INVITEs), SIPp's retransmissions, CPU time per call of the element
# (user+system from /proc, Kamailio's processes included) and the latency
# from the caller sending the INVITE to a phone receiving the INVITE for it
# (p50/p90/p99/max ms, wall-clock timestamps logged by both SIPp processes
# and matched by the caller's number, unique per call). Then the best clean
# calls/s of each and the ratio acdd/Kamailio.
#
# Usage: benches/call-load.sh [--seconds S] [--rates "R1 R2 ..."] [--kamailio-rates "R1 R2 ..."] [--operators N]
#                             [--phones N] [--talk-ms MS] [--only acdd|kamailio] [--keep]
# Loopback only. Needs sipp (sip-tester), kamailio, python3, the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=15
rates="200 300 400 500 600 800 1000"
kamailio_rates="500 1000 2000 3000 4000 5000 6000 7000"
operators=1000
phones=2
talk=200
only=""
keep=""
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    --kamailio-rates) kamailio_rates=$2; shift 2 ;;
    --operators) operators=$2; shift 2 ;;
    --phones) phones=$2; shift 2 ;;
    --talk-ms) talk=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d)
source benches/calls-lib.sh
trap cleanup EXIT
require sipp sip-tester
require kamailio kamailio
[ "$only" = kamailio ] || [ -x target/release/acdd ] || cargo build --release --locked

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $seconds s per rate, rates: acdd $rates, kamailio $kamailio_rates; $operators operators on $phones SIPp phones; talk $talk ms, no RTP"

# run_side NAME TARGET PID RATES: every rate in turn until one fails 1 % or
# more or answers 1 % of its calls later than 1 s (INVITE->200 p99 > 1000 ms);
# "NAME step rate ok failed retrans span cpu_us_per_call" lines in $work/NAME.result.
run_side() {
  local name=$1 target=$2 element=$3 rates=$4 step=0 rate before after ok failed retrans span answer cpu
  : >"$work/$name.result"
  for rate in $rates; do
    step=$((step + 1))
    before=$(ticks "$element")
    read -r ok failed retrans span answer < <(run_calls "$target" "$rate" $((rate * seconds)) "$step" "$talk")
    after=$(ticks "$element")
    cpu=$(awk -v t=$((after - before)) -v hz="$hz" -v n="$ok" 'BEGIN { if (n > 0) printf "%.0f", t * 1e6 / hz / n; else print "-" }')
    echo "$name $step $rate $ok $failed $retrans $span $cpu $answer" >>"$work/$name.result"
    echo "  $name: $rate/s offered: $ok ok, $failed failed, INVITE->200 p99 $answer ms" >&2
    [ $((failed * 100)) -lt $((ok + failed)) ] || break
    awk -v p="$answer" 'BEGIN { exit !(p != "-" && p + 0 <= 1000) }' || break
    sleep 2
  done
}

# report NAME: one line per rate, with latencies (after the phones stopped).
report() {
  local name=$1 step rate ok failed retrans span cpu answer lat
  printf '%-9s %7s %8s %7s %8s %9s %8s %11s %14s %34s\n' side "rate/s" ok failed "failed%" "calls/s" retrans "cpu_us/call" "answer_p99_ms" "INVITE->phone ms p50/p90/p99/max"
  while read -r _ step rate ok failed retrans span cpu answer; do
    lat=$(latencies "$step" "$name" | percentiles | awk '{print $2 "/" $3 "/" $4 "/" $5}')
    printf '%-9s %7s %8s %7s %8s %9s %8s %11s %14s %34s\n' "$name" "$rate" "$ok" "$failed" \
      "$(awk -v f="$failed" -v o="$ok" 'BEGIN { printf "%.2f", (f + o) ? 100 * f / (f + o) : 100 }')" \
      "$(awk -v o="$ok" -v s="$span" 'BEGIN { printf "%.0f", (s > 0) ? o / s : 0 }')" "$retrans" "$cpu" "$answer" "$lat"
    echo "$name $step $rate $ok $failed $retrans $span $cpu $answer $lat" >>"$work/$name.report"
  done <"$work/$name.result"
}

# --- acdd ---
if [ "$only" != kamailio ]; then
  acdd_port=$(port)
  start_phones acdd "$phones"
  write_acdd_config "$acdd_port" "$operators"
  start_acdd "$acdd_port"
  register_operators "$acdd_port" "$operators"
  echo "# acdd: $operators operators registered; load now: $(cut -d' ' -f1-3 /proc/loadavg)"
  run_side acdd "127.0.0.1:$acdd_port" "$acdd_pid" "$rates"
  rss=$(awk '/VmRSS/ {print $2 " " $3}' "/proc/$acdd_pid/status")
  kill "$acdd_pid"
  wait "$acdd_pid" 2>/dev/null || true
  stop_phones
  report acdd
  echo "# acdd: RSS at the end $rss; warnings/errors in its log: $(grep -c -E ' (WARN|ERROR) ' "$work/acdd.log" || true)"
  sleep 2
fi

# --- Kamailio ---
if [ "$only" != acdd ]; then
  kam_port=$(port)
  start_phones kamailio "$phones"
  : >"$work/dispatcher.list"
  for p in "${phone_ports[@]}"; do echo "1 sip:127.0.0.1:$p" >>"$work/dispatcher.list"; done
  cat >"$work/kamailio.cfg" <<KAM
#!KAMAILIO
# A plain stateful proxy: stays in the dialog (record_route), relays every
# request with tm, new calls to the phones round robin.
children=2
listen=udp:127.0.0.1:$kam_port
auto_aliases=no
maxbuffer=4194304
dns=no
rev_dns=no
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "maxfwd.so"
loadmodule "dispatcher.so"
modparam("dispatcher", "list_file", "$work/dispatcher.list")
request_route {
    if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
    if (loose_route()) {
        if (!t_relay()) { sl_reply_error(); }
        exit;
    }
    if (method == "ACK") {
        if (t_check_trans()) { t_relay(); }
        exit;
    }
    if (method == "INVITE") { record_route(); }
    if (!ds_select_dst("1", "4")) { sl_send_reply("503", "No Phone"); exit; }
    if (!t_relay()) { sl_reply_error(); }
    exit;
}
KAM
  kamailio -f "$work/kamailio.cfg" -DD -E -m 2048 -M 32 -x fm -n 2 >"$work/kamailio.log" 2>&1 &
  kam_pid=$!
  pids_to_kill+=("$kam_pid")
  sleep 2
  kill -0 "$kam_pid" 2>/dev/null || { cat "$work/kamailio.log" >&2; exit 1; }
  echo "# kamailio started; load now: $(cut -d' ' -f1-3 /proc/loadavg)"
  run_side kamailio "127.0.0.1:$kam_port" "$kam_pid" "$kamailio_rates"
  kill "$kam_pid"
  wait "$kam_pid" 2>/dev/null || true
  stop_phones
  report kamailio
fi

# --- summary ---
best() { [ -f "$work/$1.report" ] && awk '$5 * 100 < $4 + $5 && $9 != "-" && $9 + 0 <= 1000 {r = $4 / $7; if (r > m) {m = r; l = $10}} END {printf "%.0f %s\n", m, l}' "$work/$1.report" || echo "0 -"; }
read -r a alat < <(best acdd)
read -r k klat < <(best kamailio)
echo "best clean calls/s (< 1 % failed, INVITE->200 p99 <= 1 s): acdd $a (INVITE->phone ms $alat), kamailio $k (INVITE->phone ms $klat)"
echo "acdd/kamailio calls/s: $(awk -v a="$a" -v k="$k" 'BEGIN { if (k > 0) printf "%.2f", a / k; else print "-" }')"
echo "# end: $(date -u '+%H:%M UTC'), load: $(cut -d' ' -f1-3 /proc/loadavg)"
