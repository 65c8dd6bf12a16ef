# Process helpers of bench/run.sh (sourced by it; they use its PIDS, RUN, PIN, CLK_TCK...): start, pin, stop, /proc readings, ports.

# The measured process: the child of the /usr/bin/time wrapper.
child_of() {
  local parent=$1 i pid
  for ((i = 0; i < 100; i++)); do
    pid=$(ps -o pid= --ppid "$parent" 2>/dev/null | head -n1 | tr -d ' ')
    [[ -n $pid ]] && { echo "$pid"; return 0; }
    sleep 0.05
  done
  return 1
}

# A process and all its descendants (nginx: master + worker; berth serve: the gateway and
# any processes it starts; the app container: docker-init, nginx master + worker).
process_set() {
  local pid
  echo "$1"
  for pid in $(ps -o pid= --ppid "$1" 2>/dev/null || true); do process_set "$pid"; done
}

cpu_ticks() { # utime+stime summed over the pids given, in clock ticks; `cpu_ticks --system ...`: stime alone
  local total=0 pid t fields='$12 + $13'
  [[ ${1:-} == --system ]] && { fields='$13'; shift; }
  for pid in "$@"; do
    [[ -r /proc/$pid/stat ]] || continue
    # fields after "pid (comm) ": utime is the 12th, stime the 13th
    t=$(sed 's/^.*) //' "/proc/$pid/stat" | awk "{print $fields}") || continue
    total=$((total + t))
  done
  echo "$total"
}

vm_hwm_kb() { # peak RSS summed over the pids given
  local total=0 pid kb
  for pid in "$@"; do
    kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}

# stop_tree <wrapper pid>: TERM the measured child (so /usr/bin/time reports
# it), then the wrapper; KILL whatever is left after 5 s.
stop_tree() {
  local wrapper=$1 child i
  kill -0 "$wrapper" 2>/dev/null || return 0
  child=$(ps -o pid= --ppid "$wrapper" 2>/dev/null | head -n1 | tr -d ' ' || true)
  [[ -n $child ]] && kill -TERM "$child" 2>/dev/null || kill -TERM "$wrapper" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$wrapper" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$wrapper" 2>/dev/null; then
    [[ -n $child ]] && kill -KILL "$child" 2>/dev/null
    kill -KILL "$wrapper" 2>/dev/null || true
  fi
  wait "$wrapper" 2>/dev/null || true
}

forget_pid() {
  local keep=() p
  for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

pin() { # pin <cpu> cmd...: taskset when pinning is on
  local cpu=$1
  shift
  if ((PIN)); then taskset -c "$cpu" "$@"; else "$@"; fi
}

# start <name> <cpu> cmd... → sets STARTED_WRAPPER and STARTED_PID
start() {
  local name=$1 cpu=$2
  shift 2
  # Not through pin(): a function in the background is a subshell, and $! must
  # be the taskset → /usr/bin/time process whose child is the measured one.
  if ((PIN)); then
    taskset -c "$cpu" /usr/bin/time -v -o "$RUN/$name.time.txt" "$@" >"$RUN/$name.out" 2>"$RUN/$name.err" &
  else
    /usr/bin/time -v -o "$RUN/$name.time.txt" "$@" >"$RUN/$name.out" 2>"$RUN/$name.err" &
  fi
  STARTED_WRAPPER=$!
  PIDS+=("$STARTED_WRAPPER")
  STARTED_PID=$(child_of "$STARTED_WRAPPER") || die "$name did not start (see $RUN/$name.err)"
}

wait_port() { # wait_port <name> <port> <wrapper>: until it accepts, 10 s at most
  local name=$1 port=$2 wrapper=$3 i
  for ((i = 0; i < 200; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    kill -0 "$wrapper" 2>/dev/null || die "$name exited: $(tail -n 5 "$RUN/$name.err" 2>/dev/null)"
    sleep 0.05
  done
  die "$name is not listening on 127.0.0.1:$port after 10 s"
}

check_ok() { # one request through the target must answer 200 "ok"
  local name=$1 url=$2 body tls=()
  [[ $url == https:* ]] && tls=(--cacert "$TLS_CERT") # the TLS rows' own certificate
  body=$(curl -fsS --max-time 5 "${tls[@]}" "$url") || die "$name: GET $url failed"
  [[ $body == ok ]] || die "$name: GET $url answered '$body', expected 'ok'"
}

free_ports() { # free_ports N: N distinct free loopback ports, from the OS
  node -e '
    const net = require("node:net");
    const n = Number(process.argv[1]);
    const servers = [];
    (async () => {
      for (let i = 0; i < n; i++) {
        const s = net.createServer();
        await new Promise((ok, ko) => { s.once("error", ko); s.listen(0, "127.0.0.1", ok); });
        servers.push(s);
      }
      console.log(servers.map((s) => s.address().port).join(" "));
      for (const s of servers) s.close();
    })().catch((e) => { console.error(e.message); process.exit(1); });
  ' "$1"
}
