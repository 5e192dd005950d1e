# Shared by benches/call-load.sh, benches/soak.sh and benches/sip-register.sh
# (sourced, not run).
# Expects: set -euo pipefail, the repository root as the working directory,
# $work (a temporary directory) and the arrays/variables named below.
# Loopback only: every address is 127.0.0.1.

scenarios="$PWD/benches/sipp"
pids_to_kill=()

port() { python3 -c 'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

require() {
  command -v "$1" >/dev/null || { echo "$1 missing: apt-get install -y $2" >&2; exit 1; }
}

# Kills what the benchmark started (trap on EXIT); each by its own pid.
cleanup() {
  local pid
  for pid in "${pids_to_kill[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids_to_kill[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "${keep:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}

# CPU ticks (user+system) of a process and its children (Kamailio forks workers).
ticks() {
  local total=0 pid
  for pid in "$1" $(ps -o pid= --ppid "$1"); do
    total=$((total + $(awk '{print $14+$15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
hz=$(getconf CLK_TCK)

# start_phones NAME COUNT: COUNT SIPp operator phones (UAS, call_operator.xml)
# on fresh ports; sets phone_ports and phone_pids. They log each INVITE they
# get to $work/NAME-phone-N.log.
start_phones() {
  local name=$1 count=$2 i p
  phone_ports=()
  phone_pids=()
  for ((i = 0; i < count; i++)); do
    p=$(port)
    (cd "$work" && exec sipp -sf "$scenarios/call_operator.xml" -i 127.0.0.1 -p "$p" -buff_size 4194304 \
      -trace_logs -log_file "$work/$name-phone-$i.log" -nostdin >"$work/$name-phone-$i.out" 2>&1) &
    phone_pids+=($!)
    pids_to_kill+=($!)
    phone_ports+=("$p")
  done
  sleep 0.5
}

# stop_phones: soft exit (SIGUSR1: finish calls in progress, flush the logs).
stop_phones() {
  local pid i
  for pid in "${phone_pids[@]}"; do kill -USR1 "$pid" 2>/dev/null || true; done
  for pid in "${phone_pids[@]}"; do
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

# write_acdd_config PORT OPERATORS: a queue "bench" on +4930100100 with
# OPERATORS operators (op1..opN, password opN-secret), evenly, no
# availability check (capacity still holds: one call each), no wrap-up,
# 2 s offers, storage and event log in $work.
write_acdd_config() {
  local sip_port=$1 operators=$2 i names=""
  {
    cat <<TOML
[listen]
sip_udp = "127.0.0.1:$sip_port"
rtp_ports = [16384, 32767]

[storage]
sqlite = "$work/data/acdd.db"
event_log = "$work/data/events.jsonl"

[shutdown]
grace_seconds = 1

[sip]
qualify_interval_seconds = 0
requests_per_second_per_source = 0

[[trunks]]
name = "bench"
sources = ["127.0.0.1/32"]

TOML
    for ((i = 1; i <= operators; i++)); do
      printf '[[operators]]\nid = "op%d"\nsip_username = "op%d"\nsip_password = "op%d-secret"\n\n' "$i" "$i" "$i"
      names+="\"op$i\", "
    done
    cat <<TOML
[[queues]]
name = "bench"
channels = ["phone"]
operators = [${names%, }]
mode = "evenly"
check_availability = false
responsible_first = false
chat_tracker = false
ring_count = 1
ring_interval_seconds = 2
wrap_up_seconds = 0
retry_seconds = 1
max_wait_seconds = 30
missed = { action = "hangup" }

[[routes.phone]]
number = "+4930100100"
queue = "bench"
TOML
  } >"$work/acdd.toml"
}

# start_acdd PORT: runs the release build on $work/acdd.toml; sets acdd_pid.
start_acdd() {
  local sip_port=$1 i
  mkdir -p "$work/data"
  NO_COLOR=1 "${ACDD_BIN:-./target/release/acdd}" run --config "$work/acdd.toml" 2>"$work/acdd.log" >/dev/null &
  acdd_pid=$!
  pids_to_kill+=("$acdd_pid")
  for ((i = 0; i < 200; i++)); do
    grep -q "acdd started" "$work/acdd.log" 2>/dev/null && return 0
    kill -0 "$acdd_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "acdd did not start:" >&2
  cat "$work/acdd.log" >&2
  exit 1
}

# register_operators PORT OPERATORS: REGISTERs op1..opN with digest auth
# (benches/register_operators.py), spread over the phones in phone_ports
# (Contact: that phone's port).
register_operators() {
  local sip_port=$1 operators=$2 i
  for ((i = 1; i <= operators; i++)); do
    echo "op$i;op$i-secret;${phone_ports[$(((i - 1) % ${#phone_ports[@]}))]}"
  done >"$work/operators.csv"
  timeout 300 python3 benches/register_operators.py "127.0.0.1:$sip_port" "$work/operators.csv" >/dev/null || {
    echo "registering the operators failed" >&2
    exit 1
  }
}

# run_calls TARGET RATE CALLS PREFIX TALK_MS: one SIPp caller placing CALLS
# calls at RATE/s to +4930100100 at TARGET (host:port), open loop (the
# concurrency limit is far above what the rate needs), 10 s per expected
# message at most. Caller numbers +4930<PREFIX><call number>. Prints
# "ok failed retransmissions seconds answer_p99_ms" (seconds: first INVITE
# to last INVITE plus one interval; answer: INVITE sent to 200 received, from
# the caller's log); logs in $work/caller-PREFIX.*.
run_calls() {
  local target=$1 rate=$2 calls=$3 prefix=$4 talk=$5 out ok failed retrans span answer
  out=$(cd "$work" && timeout $((calls / rate * 3 + 120)) sipp -sf "$scenarios/call_caller.xml" -s +4930100100 \
    -key caller_prefix "$prefix" -d "$talk" -r "$rate" -m "$calls" -l $((rate * 30 + 100)) \
    -i 127.0.0.1 -p "$(port)" -buff_size 4194304 -recv_timeout 10000 -timeout $((calls / rate * 3 + 100))s \
    -trace_logs -log_file "$work/caller-$prefix.log" -trace_stat -stf "$work/caller-$prefix.csv" -fd 3600 \
    -nostdin "$target" 2>&1 || true)
  echo "$out" >"$work/caller-$prefix.out"
  ok=$(echo "$out" | awk -F'|' '/Successful call/ {gsub(/ /,"",$3); print $3}' | tail -1)
  failed=$(echo "$out" | awk -F'|' '/Failed call/ {gsub(/ /,"",$3); print $3}' | tail -1)
  retrans=$(awk -F';' 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == "Retransmissions(C)") c = i} END {print (c ? $c : "?")}' \
    "$work/caller-$prefix.csv" 2>/dev/null || echo "?")
  span=$(awk -v r="$rate" '$1 == "invite" {t = $3 + $4 / 1e6; if (!n++ || t < a) a = t; if (t > b) b = t}
    END {printf "%.3f", (n ? b - a : 0) + 1 / r}' "$work/caller-$prefix.log" 2>/dev/null || echo 0)
  answer=$(awk '$1 == "invite" {t[$2] = $3 + $4 / 1e6} $1 == "answered" && ($2 in t) {printf "%.3f\n", ($3 + $4 / 1e6 - t[$2]) * 1000}' \
    "$work/caller-$prefix.log" 2>/dev/null | sort -n | percentiles | awk '{print $4}')
  echo "${ok:-0} ${failed:-$calls} $retrans $span $answer"
}

# latencies PREFIX NAME: milliseconds from the caller sending each INVITE of
# run PREFIX to a phone of NAME receiving the first INVITE for it (matched by
# the caller's number), sorted; one per line.
latencies() {
  local prefix=$1 name=$2
  awk -v p="+4930$prefix" '
    FNR == NR { if ($1 == "invite") sent[$2] = $3 + $4 / 1e6; next }
    $1 == "offer" && ($2 in sent) && !($2 in seen) { seen[$2] = 1; printf "%.3f\n", ($3 + $4 / 1e6 - sent[$2]) * 1000 }
  ' "$work/caller-$prefix.log" "$work/$name"-phone-*.log | sort -n
}

# percentiles: reads sorted numbers, prints "count p50 p90 p99 max".
percentiles() {
  awk '{v[NR] = $1} END {
    if (!NR) { print "0 - - - -"; exit }
    printf "%d %.2f %.2f %.2f %.2f\n", NR, v[int(NR * 0.50 + 0.999)], v[int(NR * 0.90 + 0.999)], v[int(NR * 0.99 + 0.999)], v[NR]
  }'
}
