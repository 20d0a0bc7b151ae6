#!/usr/bin/env bash
# bench/run.sh: the body of `make bench` (issue 2, "Benchmark").
#
# Starts three servers on loopback ports, each with its files in one temp dir:
#   cairn   ./cairn serve, root keys from CAIRN_ROOT_ACCESS_KEY/_SECRET_KEY, on its
#           embedded default (every body over 64 KiB sealed, RS 2+1 over 3 dirs)
#   s3rver  the npm peer, pinned by bench/package.json (any credentials work)
#   nginx   serving one 64 MiB file from disk: the HTTP ceiling of this machine
# then drives cairn and s3rver with the same build/cairn-bench runs, nginx
# with the 64 MiB GETs; then, alone on the machine, two more gateways for what
# sealing costs: rs42 (RS 4+2 over six posix dirs, sealed) and plain (one
# posix dir, no sealing), 64 MiB PUTs and GETs; and prints a table and ratios.
#
# It prints figures and never judges them: the exit status is non-zero only
# when a run had errors or a server died. Every server is killed on exit.
# Knobs: BENCH_SMALL_SECS (5) and BENCH_SMALL_MAX (20000) bound each 4 KiB run;
# BENCH_BIG_COUNT (8) is the number of 64 MiB PUTs per run and BENCH_BIG_SECS
# (3) the length of each 64 MiB GET run; BENCH_KEEP=1 keeps the temp dir;
# TMPDIR picks where it goes (use a real disk: cairn fsyncs, and tmpfs would
# flatter it).
#
# The loadgen runs two client threads (one at concurrency 1): one thread tops
# out near 45k small GETs/s, but receiving 64 MiB bodies at c4 from nginx it
# is the bottleneck (2200-2700 MiB/s against 2900-3400 MiB/s with two).
#
# First, with no server, build/cairn-rs-bench prints one line per erasure-code
# case (seal/rs.c: encode and decode, 4+2 and 8+4, 1 MiB segments, one thread).
set -euo pipefail
cd "$(dirname "$0")/.."

LOADGEN=build/cairn-bench
SMALL_SECS=${BENCH_SMALL_SECS:-5}
SMALL_MAX=${BENCH_SMALL_MAX:-20000}
BIG_COUNT=${BENCH_BIG_COUNT:-8}
BIG_SECS=${BENCH_BIG_SECS:-3}
SMALL=4096
BIG=$((64 << 20))
AK=CAIRNBENCHACCESSKEY0
SK=cairnbenchsecretkey000000000000000000000

die() { echo "bench: $*" >&2; exit 2; }

[ -x build/cairn-rs-bench ] || die "run 'make bench', which builds build/cairn-rs-bench"
echo "== erasure code (seal/rs.c, one thread)"
build/cairn-rs-bench | sed 's/^/  /' || die "cairn-rs-bench failed"

for tool in node npm nginx; do
    command -v $tool >/dev/null || die "$tool not found (apt-get install nginx-light nodejs npm)"
done
[ -x ./cairn ] && [ -x $LOADGEN ] || die "run 'make bench', which builds ./cairn and $LOADGEN"
if [ ! -d bench/node_modules/s3rver ]; then
    npm ci --prefix bench --no-audit --no-fund --loglevel=error >/dev/null || die "npm ci in bench/ failed"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench.XXXXXX")
declare -A PID=() # server name -> pid
cleanup() {
    for name in "${!PID[@]}"; do
        kill "${PID[$name]}" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    [ "${BENCH_KEEP:-}" = 1 ] && echo "bench: kept $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port that nothing on 127.0.0.1 answers on (small race; good enough here).
free_port() {
    local p
    for _ in $(seq 50); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then
            echo $p
            return 0
        fi
    done
    die "no free port found"
}

# wait_up NAME PORT: until the server accepts connections, or it died.
wait_up() {
    for _ in $(seq 150); do
        kill -0 "${PID[$1]}" 2>/dev/null || { tail -n 20 "$TMP/$1.log" >&2; die "$1 exited at start"; }
        (exec 3<>/dev/tcp/127.0.0.1/$2) 2>/dev/null && return 0
        sleep 0.2
    done
    die "$1 did not listen on port $2 within 30 s"
}

# start_cairn NAME [SCHEME N]: a gateway in $TMP/NAME; with a scheme, its
# only placement uses it over N posix providers there (else the embedded
# default: RS 2+1, sealed). Sets PORT[NAME].
declare -A PORT=()
start_cairn() {
    local name=$1 scheme=${2:-} n=${3:-0} conf=$TMP/$1.yaml i list=""
    PORT[$name]=$(free_port)
    mkdir -p "$TMP/$name"
    echo "# bench placement" >"$conf"
    if [ -n "$scheme" ]; then
        echo "providers:" >>"$conf"
        for i in $(seq 0 $((n - 1))); do
            echo "  d$i: {driver: posix, path: $TMP/$name/d$i}" >>"$conf"
            list="$list${list:+, }d$i"
        done
        printf 'placements:\n  STANDARD: {scheme: "%s", providers: [%s]}\n' "$scheme" "$list" >>"$conf"
    fi
    CAIRN_ROOT_ACCESS_KEY=$AK CAIRN_ROOT_SECRET_KEY=$SK \
        ./cairn serve -c "$conf" --listen 127.0.0.1:${PORT[$name]} --data "$TMP/$name" >"$TMP/$name.log" 2>&1 &
    PID[$name]=$!
    wait_up $name ${PORT[$name]}
}

start_s3rver() {
    S3RVER_PORT=$(free_port)
    mkdir -p "$TMP/s3rver"
    node bench/node_modules/s3rver/bin/s3rver.js --silent -a 127.0.0.1 -p $S3RVER_PORT \
        -d "$TMP/s3rver" >"$TMP/s3rver.log" 2>&1 &
    PID[s3rver]=$!
    wait_up s3rver $S3RVER_PORT
}

# Unprivileged and in the foreground: every path nginx writes is in $TMP.
start_nginx() {
    local d=$TMP/nginx
    NGINX_PORT=$(free_port)
    mkdir -p "$d/www" "$d/tmp"
    head -c $BIG /dev/urandom >"$d/www/big.bin"
    # When run as root, nginx's workers run as nobody: let them reach the file.
    chmod 711 "$TMP" "$d"
    chmod 755 "$d/www"
    chmod 644 "$d/www/big.bin"
    cat >"$d/nginx.conf" <<EOF
daemon off;
worker_processes auto;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    default_type application/octet-stream;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $d/www;
    }
}
EOF
    nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" >"$TMP/nginx.log" 2>&1 &
    PID[nginx]=$!
    wait_up nginx $NGINX_PORT
}

declare -A RES=()  # "server op size conc" -> the loadgen's result line
ROWS=()
FAILED=0

# run SERVER OP SIZE CONC ARGS...: one loadgen run, recorded for the table.
run() {
    local server=$1 op=$2 size=$3 conc=$4 line rc=0
    shift 4
    if ! kill -0 "${PID[$server]}" 2>/dev/null; then
        echo "bench: $server is not running; skipping $op $size c$conc" >&2
        FAILED=1
        return 0
    fi
    # Start each run with no dirty pages left by the previous one (s3rver
    # does not fsync): their writeback would land in someone else's figures.
    sync
    line=$($LOADGEN --threads 2 --timeout 60 --op $op --size $size --concurrency $conc "$@") || rc=$?
    if [ $rc -ne 0 ]; then
        FAILED=1
        echo "bench: $server $op $size c$conc exited $rc" >&2
    fi
    if ! kill -0 "${PID[$server]}" 2>/dev/null; then
        FAILED=1
        echo "bench: $server died during $op $size c$conc; last lines of its log:" >&2
        tail -n 30 "$TMP/$server.log" >&2
    fi
    [ -n "$line" ] || return 0
    RES["$server $op $size $conc"]=$line
    ROWS+=("$server $line")
    echo "  $server $line"
}

# field LINE NAME: NAME's value in a loadgen line ("ops_s=123.4 ...").
field() {
    local kv
    for kv in $1; do
        [ "${kv%%=*}" = "$2" ] && { echo "${kv#*=}"; return 0; }
    done
    echo ""
}

# The same S3 runs against one server.
s3_suite() {
    local server=$1 port=$2 ak=$3 sk=$4
    local s3=(--endpoint http://127.0.0.1:$port --access-key $ak --secret-key $sk --bucket bench)
    local small=(--duration $SMALL_SECS --count $SMALL_MAX)
    echo "== $server"
    run $server put $SMALL 16 "${s3[@]}" "${small[@]}" --create-bucket
    run $server put $SMALL 64 "${s3[@]}" "${small[@]}"
    run $server get $SMALL 16 "${s3[@]}" "${small[@]}" --prefix small/ --keys 256 --prefill
    run $server get $SMALL 64 "${s3[@]}" "${small[@]}" --prefix small/ --keys 256
    run $server put $BIG 1 "${s3[@]}" --count $BIG_COUNT --prefix big-c1/
    run $server put $BIG 4 "${s3[@]}" --count $BIG_COUNT --prefix big-c4/
    # The GETs read the objects the c4 PUT wrote.
    run $server get $BIG 1 "${s3[@]}" --duration $BIG_SECS --prefix big-c4/ --keys $BIG_COUNT
    run $server get $BIG 4 "${s3[@]}" --duration $BIG_SECS --prefix big-c4/ --keys $BIG_COUNT
}

# 64 MiB PUT and GET only: what sealing costs on large objects.
big_suite() {
    local server=$1
    local s3=(--endpoint http://127.0.0.1:${PORT[$server]} --access-key $AK --secret-key $SK --bucket bench)
    echo "== $server"
    run $server put $BIG 1 "${s3[@]}" --count $BIG_COUNT --prefix big-c1/ --create-bucket
    run $server put $BIG 4 "${s3[@]}" --count $BIG_COUNT --prefix big-c4/
    run $server get $BIG 1 "${s3[@]}" --duration $BIG_SECS --prefix big-c4/ --keys $BIG_COUNT
    run $server get $BIG 4 "${s3[@]}" --duration $BIG_SECS --prefix big-c4/ --keys $BIG_COUNT
}

nginx_suite() {
    local url=http://127.0.0.1:$NGINX_PORT/big.bin
    echo "== nginx"
    run nginx get $BIG 1 --url-template $url --duration $BIG_SECS
    run nginx get $BIG 4 --url-template $url --duration $BIG_SECS
}

human_size() { [ "$1" -ge $((1 << 20)) ] && echo "$(($1 >> 20))MiB" || echo "$(($1 >> 10))KiB"; }

print_table() {
    local row line
    printf '\n%-7s %-4s %7s %5s %10s %9s %9s %9s %7s\n' \
        server op size conc ops/s MiB/s p50_ms p99_ms errors
    for row in "${ROWS[@]}"; do
        line=${row#* }
        printf '%-7s %-4s %7s %5s %10s %9s %9s %9s %7s\n' "${row%% *}" \
            "$(field "$line" op)" "$(human_size "$(field "$line" size)")" "$(field "$line" conc)" \
            "$(field "$line" ops_s)" "$(field "$line" mib_s)" "$(field "$line" p50_ms)" \
            "$(field "$line" p99_ms)" "$(field "$line" errors)"
    done
}

# ratio LABEL KEY-A KEY-B FIELD: A's FIELD over B's; n/a when a run is
# missing or had errors (a run cut short by a crash measures nothing).
ratio() {
    local a=${RES[$2]:-} b=${RES[$3]:-} x y
    x=$(field "$a" "$4")
    y=$(field "$b" "$4")
    if [ -z "$x" ] || [ -z "$y" ] || [ "$(field "$a" errors)" != 0 ] || [ "$(field "$b" errors)" != 0 ] ||
        [ "$(awk -v y="$y" 'BEGIN { print (y > 0) }')" != 1 ]; then
        printf '  %-40s n/a\n' "$1"
        return 0
    fi
    awk -v l="$1" -v x="$x" -v y="$y" 'BEGIN { printf "  %-40s %6.2f  (%s / %s)\n", l, x / y, x, y }'
}

print_ratios() {
    local op conc
    echo
    echo "cairn / s3rver, ops/s:"
    for op in put get; do
        for conc in 16 64; do
            ratio "${op^^} 4 KiB c$conc" "cairn $op $SMALL $conc" "s3rver $op $SMALL $conc" ops_s
        done
    done
    for op in put get; do
        for conc in 1 4; do
            ratio "${op^^} 64 MiB c$conc (MiB/s)" "cairn $op $BIG $conc" "s3rver $op $BIG $conc" mib_s
        done
    done
    echo "cairn / nginx, 64 MiB GET MiB/s:"
    for conc in 1 4; do
        ratio "GET 64 MiB c$conc" "cairn get $BIG $conc" "nginx get $BIG $conc" mib_s
    done
    echo "sealed RS 4+2 over 6 disks / unsealed (plain, 1 disk), 64 MiB MiB/s:"
    for op in put get; do
        for conc in 1 4; do
            ratio "${op^^} 64 MiB c$conc" "rs42 $op $BIG $conc" "plain $op $BIG $conc" mib_s
        done
    done
}

# Peak memory of cairn over the whole bench, from the kernel's own counters.
# print_cairn_memory NAME: while it still runs.
print_cairn_memory() {
    local status=/proc/${PID[$1]:-none}/status
    [ -r "$status" ] || return 0
    echo
    awk '/^VmHWM:/ { hwm = $2 } /^RssAnon:/ { anon = $2 }
         END { printf "'"$1"' memory: peak RSS (VmHWM, spill-file pages included) %d MiB; RssAnon now %d MiB\n",
               hwm / 1024, anon / 1024 }' "$status"
}

# Other work on the machine skews everything: say how busy it was.
echo "bench: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); files in $TMP"
start_cairn cairn
start_s3rver
start_nginx
s3_suite cairn ${PORT[cairn]} $AK $SK
s3_suite s3rver $S3RVER_PORT S3RVER S3RVER
nginx_suite
print_cairn_memory cairn
# One server at a time from here on, so that they do not share the cores.
kill "${PID[cairn]}" "${PID[s3rver]}" "${PID[nginx]}"
start_cairn rs42 "4+2" 6
big_suite rs42
print_cairn_memory rs42
kill "${PID[rs42]}"
start_cairn plain plain 1
big_suite plain
print_table
print_ratios
echo "bench: load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
exit $FAILED
