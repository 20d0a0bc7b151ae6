#!/usr/bin/env bash
# rclone against the shared gateway of run.sh, with an s3 remote configured by
# environment only (provider Other, path style): mkdir, copy a tree with a 30 MiB
# file (multipart: upload cutoff lowered to 10 MiB), check (must find 0
# differences, by hash and by download), lsf, cat, server-side copy (plain and
# multipart UploadPartCopy), delete, rmdir.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
suite_begin rclone
require_cmd rclone

export RCLONE_CONFIG=$SUITE_TMP/rclone.conf
: >"$RCLONE_CONFIG"
export RCLONE_CONFIG_CAIRN_TYPE=s3
export RCLONE_CONFIG_CAIRN_PROVIDER=Other
export RCLONE_CONFIG_CAIRN_ENV_AUTH=false
export RCLONE_CONFIG_CAIRN_ACCESS_KEY_ID=$CAIRN_ACCESS_KEY
export RCLONE_CONFIG_CAIRN_SECRET_ACCESS_KEY=$CAIRN_SECRET_KEY
export RCLONE_CONFIG_CAIRN_ENDPOINT=$CAIRN_ENDPOINT
export RCLONE_CONFIG_CAIRN_REGION=$CAIRN_REGION
export RCLONE_CONFIG_CAIRN_FORCE_PATH_STYLE=true
# Multipart from 10 MiB on, in 5 MiB chunks; server-side copies above 10 MiB
# go through UploadPartCopy with ranges.
export RCLONE_CONFIG_CAIRN_UPLOAD_CUTOFF=10M
export RCLONE_CONFIG_CAIRN_CHUNK_SIZE=5M
export RCLONE_CONFIG_CAIRN_COPY_CUTOFF=10M
export RCLONE_RETRIES=1 RCLONE_LOW_LEVEL_RETRIES=1

B=$CAIRN_BUCKET_PREFIX-main
R=cairn:$B
W=$SUITE_TMP/work
mkdir -p "$W"
rc() { rclone --contimeout 10s --timeout 60s "$@"; }

case_mkdir() {
    rc mkdir "$R"
    local out
    out=$(rc lsd cairn:)
    assert_contains "$out" " $B"
}

case_copy_tree() {
    make_tree "$W/tree"
    make_file "$W/tree/big/thirty.bin" $((30 * 1024 * 1024))
    for i in 1 2 3 4 5; do make_file "$W/tree/many/f$i.dat" $((i * 3333)); done
    rc copy "$W/tree" "$R/tree"
    # 30 MiB in 5 MiB chunks: a 6-part multipart object.
    local etag
    etag=$(rc lsjson --hash "$R/tree/big/thirty.bin" --stat | /usr/bin/python3 -c '
import json, sys; print(json.load(sys.stdin).get("Hashes", {}).get("md5", ""))')
    # rclone stores the whole-file MD5 as metadata for multipart uploads, so it
    # can still report the real MD5 here.
    assert_eq "$(md5sum <"$W/tree/big/thirty.bin" | cut -d' ' -f1)" "$etag" "md5 of the multipart object"
}

case_check() {
    local out
    out=$(rc check "$W/tree" "$R/tree" 2>&1) || { echo "$out"; return 1; }
    assert_contains "$out" "0 differences found"
    out=$(rc check --download "$W/tree" "$R/tree" 2>&1) || { echo "$out"; return 1; }
    assert_contains "$out" "0 differences found"
}

case_check_detects_difference() {
    # The check must be able to fail: corrupt one remote file and see it reported.
    echo "tampered" | rc rcat "$R/tree/top.txt"
    local out rcode=0
    out=$(rc check "$W/tree" "$R/tree" 2>&1) || rcode=$?
    [ "$rcode" -ne 0 ]
    assert_contains "$out" "1 differences found"
    rc copyto "$W/tree/top.txt" "$R/tree/top.txt"
    rc check "$W/tree" "$R/tree"
}

case_lsf() {
    local want got
    want=$(cd "$W/tree" && find . -type f | sed 's|^\./||' | LC_ALL=C sort)
    got=$(rc lsf -R --files-only "$R/tree" | LC_ALL=C sort)
    assert_eq "$want" "$got" "lsf -R"
    got=$(rc lsf "$R/tree" | LC_ALL=C sort | tr '\n' ' ')
    assert_eq "big/ empty.bin many/ other dir/ sub/ top.txt " "$got" "lsf top level"
    got=$(rc size --json "$R/tree" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["bytes"])')
    assert_eq "$(find "$W/tree" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')" "$got" "rclone size"
}

case_cat() {
    local got
    got=$(rc cat "$R/tree/top.txt")
    assert_eq "$(cat "$W/tree/top.txt")" "$got"
    got=$(rc cat "$R/tree/sub/numbers.txt" --offset 10 --count 20)
    assert_eq "$(tail -c +11 "$W/tree/sub/numbers.txt" | head -c 20)" "$got" "ranged cat"
    got=$(rc cat "$R/tree/other dir/café.txt")
    assert_eq "café" "$got"
}

case_server_side_copy() {
    rc copyto "$R/tree/sub/one-mib.bin" "$R/copies/one-mib.bin"
    rc copyto "$R/tree/big/thirty.bin" "$R/copies/thirty.bin"
    rc cat "$R/copies/thirty.bin" >"$W/thirty.down"
    assert_same_file "$W/tree/big/thirty.bin" "$W/thirty.down"
    rc cat "$R/copies/one-mib.bin" >"$W/one.down"
    assert_same_file "$W/tree/sub/one-mib.bin" "$W/one.down"
}

case_sync_and_delete() {
    rm "$W/tree/many/f1.dat"
    echo changed >"$W/tree/many/f2.dat"
    rc sync "$W/tree" "$R/tree"
    rc check "$W/tree" "$R/tree"
    rc delete "$R/tree/many"
    local out
    out=$(rc lsf -R "$R/tree/many" || true)
    assert_eq "" "$out" "nothing left under many/"
    out=$(rc lsf "$R/tree")
    assert_contains "$out" "top.txt"
}

case_rmdir() {
    # rmdir refuses a non-empty bucket...
    assert_fails rc rmdir "$R"
    rc delete "$R"
    rc rmdir "$R"
    local out
    out=$(rc lsd cairn:)
    assert_not_contains "$out" " $B"
}

check "mkdir (create bucket), lsd lists it" case_mkdir
check "copy a tree with a 30 MiB multipart file" case_copy_tree
check "check (hash and --download): 0 differences" case_check
check "check reports a tampered file" case_check_detects_difference
check "lsf (recursive and top level), size" case_lsf
check "cat (whole, ranged, UTF-8 name)" case_cat
check "server-side copyto (CopyObject and UploadPartCopy)" case_server_side_copy
check "sync after changes, delete a prefix" case_sync_and_delete
check "rmdir refuses non-empty, then delete + rmdir" case_rmdir
suite_end
