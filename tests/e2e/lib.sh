# shellcheck shell=bash
# Helpers shared by tests/e2e/run.sh and the shell suites (test_*.sh).
#
# A shell suite sources this file, calls suite_begin NAME, runs each case with
#   check "what it shows" some_function args...
# and ends with suite_end. Each case runs in a subshell with `set -e`, so any
# failing command fails the case; its output goes to a log that is printed only
# when the case fails. suite_end writes "PASSED FAILED" to
# $E2E_RESULTS/NAME.counts for run.sh and exits non-zero if a case failed.
#
# Environment set by run.sh (and required by every suite):
#   CAIRN_ENDPOINT      http://127.0.0.1:PORT
#   CAIRN_ACCESS_KEY    root access key of the gateway under test
#   CAIRN_SECRET_KEY    its secret
#   CAIRN_REGION        us-east-1
#   CAIRN_BUCKET_PREFIX unique per suite; buckets are "$CAIRN_BUCKET_PREFIX-xyz"
#   E2E_RESULTS         directory for the counts files
#   E2E_TMP             scratch directory of this run (removed by run.sh)

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$E2E_DIR/../.." && pwd)
export REPO_ROOT

e2e_log() { printf '%s\n' "$*" >&2; }
die() {
    e2e_log "e2e: $*"
    exit 2
}

# require_cmd PATH-OR-NAME...: a missing client fails the run, never skips it.
require_cmd() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || die "required client '$c' is not installed"
    done
}

# free_port: print a TCP port on 127.0.0.1 that nobody listens on right now.
free_port() {
    /usr/bin/python3 - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

# wait_health URL SECONDS PID: wait until GET URL/health answers 200, or fail
# early when PID has died.
wait_health() {
    local url=$1 secs=$2 pid=${3:-} i
    for ((i = 0; i < secs * 10; i++)); do
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            return 1
        fi
        if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url/health" 2>/dev/null)" = 200 ]; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# start_gateway BIN DATA PORT LOG: start `cairn serve` in the background with
# the root credentials from CAIRN_ROOT_ACCESS_KEY/CAIRN_ROOT_SECRET_KEY; sets
# GW_PID. Returns non-zero if it does not become healthy within 30 s.
start_gateway() {
    local bin=$1 data=$2 port=$3 log=$4
    "$bin" serve --listen "127.0.0.1:$port" --data "$data" >>"$log" 2>&1 &
    GW_PID=$!
    wait_health "http://127.0.0.1:$port" 30 "$GW_PID"
}

# stop_gateway PID SECONDS: SIGTERM, wait; sets GW_EXIT to the exit status
# ("timeout" if it did not exit, after which it is SIGKILLed). Not to be called
# in a subshell: only the shell that started the gateway can wait for it.
stop_gateway() {
    local pid=$1 secs=${2:-30} watcher flag rc=0
    flag=$(mktemp)
    rm -f "$flag"
    kill -TERM "$pid" 2>/dev/null || true
    # A watchdog SIGKILLs it if it has not exited in time, and says so in $flag.
    (
        sleep "$secs"
        if kill -0 "$pid" 2>/dev/null; then
            : >"$flag"
            kill -KILL "$pid" 2>/dev/null
        fi
    ) &
    watcher=$!
    wait "$pid" 2>/dev/null || rc=$?
    kill "$watcher" 2>/dev/null || true
    wait "$watcher" 2>/dev/null || true
    GW_EXIT=$rc # read by the caller (run.sh)
    if [ -e "$flag" ]; then
        GW_EXIT="timeout after ${secs}s"
        rm -f "$flag"
    fi
    export GW_EXIT
}

# ---- shell suites -------------------------------------------------------

SUITE_NAME=
SUITE_PASSED=0
SUITE_FAILED=0
SUITE_FAILED_NAMES=()

suite_begin() {
    SUITE_NAME=$1
    : "${CAIRN_ENDPOINT:?run this suite through tests/e2e/run.sh}"
    : "${CAIRN_ACCESS_KEY:?}" "${CAIRN_SECRET_KEY:?}" "${CAIRN_BUCKET_PREFIX:?}"
    : "${E2E_RESULTS:?}" "${E2E_TMP:?}"
    CAIRN_REGION=${CAIRN_REGION:-us-east-1}
    SUITE_TMP=$(mktemp -d "$E2E_TMP/$SUITE_NAME.XXXXXX")
    SUITE_CASE_LOG=$SUITE_TMP/case.log
    echo "== suite $SUITE_NAME (endpoint $CAIRN_ENDPOINT)"
}

# check DESCRIPTION CMD...: run CMD in a `set -e` subshell and count it.
check() {
    local desc=$1 rc t0 t1
    shift
    t0=$(date +%s%N)
    set +e
    (
        set -e -o pipefail
        "$@"
    ) >"$SUITE_CASE_LOG" 2>&1
    rc=$?
    set -e
    t1=$(date +%s%N)
    if [ "$rc" -eq 0 ]; then
        SUITE_PASSED=$((SUITE_PASSED + 1))
        printf 'ok   %s (%d ms)\n' "$desc" $(((t1 - t0) / 1000000))
    else
        SUITE_FAILED=$((SUITE_FAILED + 1))
        SUITE_FAILED_NAMES+=("$desc")
        printf 'FAIL %s (exit %d)\n' "$desc" "$rc"
        tail -n 40 "$SUITE_CASE_LOG" | sed 's/^/     | /'
    fi
}

suite_end() {
    local f
    echo "$SUITE_PASSED $SUITE_FAILED" >"$E2E_RESULTS/$SUITE_NAME.counts"
    if [ "$SUITE_FAILED" -gt 0 ]; then
        echo "-- $SUITE_NAME failures:"
        for f in "${SUITE_FAILED_NAMES[@]}"; do echo "   - $f"; done
    fi
    echo "$SUITE_NAME: $SUITE_PASSED passed, $SUITE_FAILED failed" | sed 's/^/-- /'
    [ "$SUITE_FAILED" -eq 0 ]
}

# ---- assertions for shell cases ---------------------------------------

# assert_eq EXPECTED ACTUAL [WHAT]
assert_eq() {
    if [ "$1" != "$2" ]; then
        echo "assertion failed${3:+ ($3)}: expected [$1], got [$2]" >&2
        return 1
    fi
}

# assert_contains HAYSTACK NEEDLE [WHAT]
assert_contains() {
    case $1 in
    *"$2"*) return 0 ;;
    esac
    echo "assertion failed${3:+ ($3)}: [$2] not found in:" >&2
    printf '%s\n' "$1" | head -n 30 >&2
    return 1
}

# assert_not_contains HAYSTACK NEEDLE [WHAT]
assert_not_contains() {
    case $1 in
    *"$2"*)
        echo "assertion failed${3:+ ($3)}: [$2] unexpectedly found in:" >&2
        printf '%s\n' "$1" | head -n 30 >&2
        return 1
        ;;
    esac
}

# assert_same_file A B: byte-identical.
assert_same_file() {
    if ! cmp -s "$1" "$2"; then
        echo "assertion failed: $1 and $2 differ (sizes $(stat -c %s "$1" 2>/dev/null || echo missing) / $(stat -c %s "$2" 2>/dev/null || echo missing))" >&2
        return 1
    fi
}

# assert_fails CMD...: the command must exit non-zero.
assert_fails() {
    if "$@"; then
        echo "assertion failed: expected failure of: $*" >&2
        return 1
    fi
}

# make_file PATH SIZE_BYTES: random content of exactly that size.
make_file() {
    mkdir -p "$(dirname "$1")"
    head -c "$2" /dev/urandom >"$1"
}

# make_tree DIR: a small directory tree with nested dirs, an empty file,
# names with spaces and UTF-8, and one 1 MiB file.
make_tree() {
    local d=$1
    mkdir -p "$d/sub/deeper" "$d/other dir"
    echo "hello" >"$d/top.txt"
    : >"$d/empty.bin"
    head -c 1048576 /dev/urandom >"$d/sub/one-mib.bin"
    head -c 12345 /dev/urandom >"$d/sub/deeper/odd size.bin"
    printf 'caf\xc3\xa9\n' >"$d/other dir/caf$(printf '\xc3\xa9').txt"
    seq 1 5000 >"$d/sub/numbers.txt"
}
