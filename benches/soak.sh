#!/usr/bin/env bash
# Soak (not a test): steady queue calls through acdd for MINUTES minutes at a
# moderate rate, the same call as benches/call-load.sh (SIPp trunk caller ->
# acdd queue -> one of OPERATORS registered operators on PHONES SIPp phones,
# answered at once, TALK_MS ms of talk without RTP, BYE). Samples acdd's
# resident memory (VmRSS from /proc/PID/status) every 30 s, then prints the
# calls completed and failed, first/last/max RSS and whether memory stayed
# flat: the growth over the second half of the run (its first sample to the
# last) is at most 3 % or 2 MB.
#
# Usage: benches/soak.sh [--minutes M] [--rate R] [--operators N] [--phones N]
#                        [--talk-ms MS] [--keep]
# Loopback only. Needs sipp (sip-tester), python3, the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=10
rate=100
operators=200
phones=2
talk=1000
keep=""
while [ $# -gt 0 ]; do
  case $1 in
    --minutes) minutes=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --operators) operators=$2; shift 2 ;;
    --phones) phones=$2; shift 2 ;;
    --talk-ms) talk=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d)
source benches/calls-lib.sh
trap cleanup EXIT
require sipp sip-tester
[ -x target/release/acdd ] || cargo build --release --locked

calls=$((rate * minutes * 60))
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# soak: $minutes min at $rate calls/s ($calls calls), $operators operators on $phones SIPp phones, talk $talk ms, no RTP"
acdd_port=$(port)
start_phones acdd "$phones"
write_acdd_config "$acdd_port" "$operators"
start_acdd "$acdd_port"
register_operators "$acdd_port" "$operators"

# "VmRSS RssAnon RssFile RssShmem" in kB: the heap is RssAnon; RssFile and
# RssShmem are file pages (SQLite's -shm index is mapped).
rss() { awk '/^(VmRSS|RssAnon|RssFile|RssShmem):/ {v[$1] = $2} END {print v["VmRSS:"], v["RssAnon:"], v["RssFile:"], v["RssShmem:"]}' "/proc/$acdd_pid/status"; }
echo "elapsed_s rss_kB anon_kB file_kB shmem_kB" >"$work/rss"
echo "0 $(rss)" >>"$work/rss"
before=$(ticks "$acdd_pid")
run_calls "127.0.0.1:$acdd_port" "$rate" "$calls" 9 "$talk" >"$work/calls" &
caller=$!
pids_to_kill+=("$caller")
started=$SECONDS
while kill -0 "$caller" 2>/dev/null; do
  for ((i = 0; i < 30; i++)); do
    kill -0 "$caller" 2>/dev/null || break
    sleep 1
  done
  kill -0 "$caller" 2>/dev/null || break
  echo "$((SECONDS - started)) $(rss)" >>"$work/rss"
  echo "  $((SECONDS - started)) s: RSS/anon/file/shmem $(rss) kB" >&2
done
wait "$caller" || true
after=$(ticks "$acdd_pid")
sleep 1
echo "$((SECONDS - started)) $(rss)" >>"$work/rss"
read -r ok failed retrans span <"$work/calls"
kill "$acdd_pid"
wait "$acdd_pid" 2>/dev/null || true
stop_phones

echo "RSS samples (every 30 s): VmRSS (of which anonymous, file, shared memory)"
awk 'NR > 1 {printf "  %5d s  %8.1f MB  (%.1f anon, %.1f file, %.1f shmem)\n", $1, $2 / 1024, $3 / 1024, $4 / 1024, $5 / 1024}' "$work/rss"
read -r lat_n p50 p90 p99 pmax < <(latencies 9 acdd | percentiles)
echo "calls: $ok completed, $failed failed ($(awk -v f="$failed" -v o="$ok" 'BEGIN { printf "%.3f", (f + o) ? 100 * f / (f + o) : 100 }') %), $retrans SIPp retransmissions, $(awk -v o="$ok" -v s="$span" 'BEGIN { printf "%.1f", (s > 0) ? o / s : 0 }') calls/s"
echo "acdd CPU per call: $(awk -v t=$((after - before)) -v hz="$hz" -v n="$ok" 'BEGIN { if (n > 0) printf "%.0f", t * 1e6 / hz / n; else print "-" }') us; INVITE->phone ms p50/p90/p99/max: $p50/$p90/$p99/$pmax ($lat_n calls)"
echo "warnings/errors in acdd's log: $(grep -c -E ' (WARN|ERROR) ' "$work/acdd.log" || true)"
awk 'NR > 1 {v[++n] = $2; t[n] = $1; a[n] = $3}
  END {
    m = 0; for (i = 1; i <= n; i++) if (v[i] > m) m = v[i]
    h = int((n + 1) / 2); growth = v[n] - v[h]
    flat = (growth <= 2048 || growth <= 0.03 * v[h]) ? "flat" : "NOT flat"
    printf "RSS first %.1f MB, last %.1f MB, max %.1f MB; second half (%d s to %d s) %+.1f MB: memory %s",
      v[1] / 1024, v[n] / 1024, m / 1024, t[h], t[n], growth / 1024, flat
    printf " (anonymous memory %+.1f MB over the second half)\n", (a[n] - a[h]) / 1024
  }' "$work/rss"
echo "# end: $(date -u '+%H:%M UTC'), load: $(cut -d' ' -f1-3 /proc/loadavg)"
