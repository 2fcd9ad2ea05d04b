#!/usr/bin/env bash
# The cluster sample, in one command: its own redis-server, three broker nodes on it and a YARP balancer in
# front of them, all on this machine. Open the demo page through the balancer, kill the node your page is on
# (key 1-3), and watch the page reconnect to another node and recover what it missed. Ctrl-C (or q) stops all.
#
# Ports (override with the environment): balancer BALANCER_PORT (8080); Redis REDIS_PORT (6399, never the
# system Redis on 6379); node N on 910N (web, WebSocket) and 920N (gRPC).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

balancer_port=${BALANCER_PORT:-8080}
redis_port=${REDIS_PORT:-6399}
nodes=(1 2 3)

command -v redis-server >/dev/null || { echo "run.sh: redis-server is missing (Debian: apt-get install redis-server)" >&2; exit 1; }
command -v curl >/dev/null || { echo "run.sh: curl is missing" >&2; exit 1; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$balancer_port" "$redis_port" 9101 9102 9103 9201 9202 9203; do
  if port_in_use "$port"; then echo "run.sh: port $port is taken; stop what listens there (or set BALANCER_PORT / REDIS_PORT)" >&2; exit 1; fi
done

echo "Building the broker and the balancer (Release)…"
dotnet build src/Broker -c Release --nologo -v quiet >/dev/null
dotnet build samples/Cluster/Balancer -c Release --nologo -v quiet >/dev/null

logs=$(mktemp -d -t broker-cluster.XXXXXX)
declare -A pid
redis_pid=
balancer_pid=

stop_all() {
  trap - EXIT INT TERM
  echo; echo "Stopping…"
  [[ -n $balancer_pid ]] && kill "$balancer_pid" 2>/dev/null || true
  for n in "${nodes[@]}"; do [[ -n ${pid[$n]:-} ]] && kill "${pid[$n]}" 2>/dev/null || true; done
  [[ -n $redis_pid ]] && { kill -CONT "$redis_pid" 2>/dev/null; kill "$redis_pid" 2>/dev/null; } || true
  wait 2>/dev/null || true
  echo "Logs kept in $logs"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# Polls a URL until it answers 2xx: a process says it is ready only there.
wait_for() {
  local what=$1 url=$2 deadline=$((SECONDS + 60))
  until curl -fs -o /dev/null --max-time 1 "$url"; do
    if ((SECONDS > deadline)); then echo "run.sh: $what did not become ready; see $logs" >&2; exit 1; fi
    sleep 0.2
  done
}

start_node() {
  local n=$1
  # Development: the demo page's login and the dashboard are on, and the static files come from the repository.
  (cd src/Broker && exec env \
    ASPNETCORE_ENVIRONMENT=Development \
    Kestrel__Endpoints__Web__Url="http://127.0.0.1:910$n" \
    Kestrel__Endpoints__Grpc__Url="http://127.0.0.1:920$n" \
    Broker__NodeName="node$n" \
    Broker__Engine=Redis \
    Broker__Redis__Configuration="127.0.0.1:$redis_port" \
    Broker__Redis__Prefix=sample \
    Broker__Redis__NodeTimeout=00:00:10 \
    Broker__AllowedOrigins__0="http://127.0.0.1:$balancer_port" \
    Broker__AllowedOrigins__1="http://localhost:$balancer_port" \
    dotnet "$root/src/Broker/bin/Release/net10.0/Broker.dll") >>"$logs/node$n.log" 2>&1 &
  pid[$n]=$!
}

echo "Starting redis-server on 127.0.0.1:$redis_port (no persistence)…"
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$logs/redis.log" 2>&1 &
redis_pid=$!
deadline=$((SECONDS + 10))
until redis-cli -p "$redis_port" ping >/dev/null 2>&1; do
  ((SECONDS > deadline)) && { echo "run.sh: redis-server did not start; see $logs/redis.log" >&2; exit 1; }
  sleep 0.1
done

echo "Starting three broker nodes…"
for n in "${nodes[@]}"; do start_node "$n"; done
for n in "${nodes[@]}"; do wait_for "node$n" "http://127.0.0.1:910$n/readyz"; done

echo "Starting the balancer on 127.0.0.1:$balancer_port…"
(cd samples/Cluster/Balancer && exec env Kestrel__Endpoints__Web__Url="http://127.0.0.1:$balancer_port" \
  dotnet "$root/samples/Cluster/Balancer/bin/Release/net10.0/Balancer.dll") >"$logs/balancer.log" 2>&1 &
balancer_pid=$!
wait_for "the balancer" "http://127.0.0.1:$balancer_port/readyz"

show() {
  for n in "${nodes[@]}"; do
    if [[ -n ${pid[$n]:-} ]] && kill -0 "${pid[$n]}" 2>/dev/null; then
      local stats
      stats=$(curl -fsS --max-time 1 "http://127.0.0.1:910$n/stats" 2>/dev/null || echo '')
      printf '  node%s  pid %-7s %s\n' "$n" "${pid[$n]}" "$(grep -o '"websocket":[0-9]*' <<<"$stats" | sed 's/"websocket":/sockets /' || echo 'not answering')"
    else
      printf '  node%s  down\n' "$n"
    fi
  done
}

cat <<TEXT

The cluster is up (logs in $logs):
  demo page   http://127.0.0.1:$balancer_port/          (open two windows, log in, chat)
  dashboard   http://127.0.0.1:$balancer_port/dashboard (names the node it shows; links to the others)

Keys:  s  show which node holds how many sockets (your page's is the one with a socket)
       1, 2, 3  kill that node (SIGKILL): its pages reconnect through the balancer to another node
       r  restart the killed nodes       q  quit (stops everything)
TEXT
show
while read -r -n1 -s key; do
  case $key in
    [123])
      if [[ -n ${pid[$key]:-} ]] && kill -0 "${pid[$key]}" 2>/dev/null; then
        kill -9 "${pid[$key]}"; wait "${pid[$key]}" 2>/dev/null || true; pid[$key]=
        echo "node$key killed. The balancer takes it out of rotation within about 2 s (/readyz checked every second)."
      else
        echo "node$key is already down."
      fi ;;
    r)
      for n in "${nodes[@]}"; do
        if [[ -z ${pid[$n]:-} ]] || ! kill -0 "${pid[$n]}" 2>/dev/null; then start_node "$n"; wait_for "node$n" "http://127.0.0.1:910$n/readyz"; echo "node$n is back."; fi
      done ;;
    s) show ;;
    q) break ;;
  esac
done
