#!/usr/bin/env bash
# s3cmd 2.3 against the shared gateway of run.sh, once with SigV4 and once with
# SigV2 (signature_v2 = True): mb, put (incl. multipart), get, ls, la, info,
# del, sync both ways, rb. Path-style addressing (host_bucket without %(bucket)s).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
suite_begin s3cmd
require_cmd s3cmd /usr/bin/python3

HOSTPORT=${CAIRN_ENDPOINT#http://}
W=$SUITE_TMP/work
mkdir -p "$W"

write_config() { # write_config FILE SIGV2(True|False)
    cat >"$1" <<EOF
[default]
access_key = $CAIRN_ACCESS_KEY
secret_key = $CAIRN_SECRET_KEY
host_base = $HOSTPORT
host_bucket = $HOSTPORT
bucket_location = $CAIRN_REGION
use_https = False
check_ssl_certificate = False
signature_v2 = $2
guess_mime_type = True
multipart_chunk_size_mb = 15
progress_meter = False
EOF
}

# One pass of every case with config $CFG and bucket $B.
s3c() { s3cmd -c "$CFG" --no-progress "$@"; }

case_mb() {
    local out
    out=$(s3c mb "s3://$B")
    assert_contains "$out" "Bucket 's3://$B/' created"
    out=$(s3c ls)
    assert_contains "$out" "s3://$B"
    assert_fails s3c mb "s3://$B"
}

case_put_get() {
    make_file "$W/$TAG.small" 54321
    s3c put "$W/$TAG.small" "s3://$B/dir/small.bin"
    s3c get --force "s3://$B/dir/small.bin" "$W/$TAG.small.down"
    assert_same_file "$W/$TAG.small" "$W/$TAG.small.down"
    echo "plain text" >"$W/$TAG.txt"
    s3c put --mime-type=text/plain --add-header=Cache-Control:max-age=60 "$W/$TAG.txt" "s3://$B/hello.txt"
    local info
    info=$(s3c info "s3://$B/hello.txt")
    assert_contains "$info" "text/plain"
    assert_contains "$info" "$(md5sum <"$W/$TAG.txt" | cut -d' ' -f1)"
}

case_put_multipart() {
    make_file "$W/$TAG.big" $((12 * 1024 * 1024))
    local out
    # Multipart is proven by the md5-of-md5s-3 ETag below.
    s3c put --multipart-chunk-size-mb=5 "$W/$TAG.big" "s3://$B/big.bin"
    s3c get --force "s3://$B/big.bin" "$W/$TAG.big.down"
    assert_same_file "$W/$TAG.big" "$W/$TAG.big.down"
    local info
    info=$(s3c info "s3://$B/big.bin")
    assert_contains "$info" "12582912"
    # The ETag of a multipart object is md5-of-md5s-3.
    local want
    want=$(/usr/bin/python3 - "$W/$TAG.big" <<'EOF'
import hashlib, sys
d = open(sys.argv[1], "rb").read()
c = 5 * 1024 * 1024
print(hashlib.md5(b"".join(hashlib.md5(d[i:i + c]).digest() for i in range(0, len(d), c))).hexdigest() + "-3")
EOF
)
    # s3cmd shows its own stored MD5 (x-amz-meta-s3cmd-attrs), not the ETag;
    # the ETag is only in its debug dump of the response headers.
    assert_contains "$info" "MD5 sum:   $(md5sum <"$W/$TAG.big" | cut -d' ' -f1)"
    out=$(s3c -d info "s3://$B/big.bin" 2>&1 | grep -i "'etag'" || true)
    assert_contains "$out" "$want"
}

case_ls_la() {
    local out
    out=$(s3c ls "s3://$B")
    assert_contains "$out" "DIR  s3://$B/dir/"
    assert_contains "$out" "s3://$B/big.bin"
    out=$(s3c ls --recursive "s3://$B")
    assert_contains "$out" "54321  s3://$B/dir/small.bin"
    out=$(s3c la)
    assert_contains "$out" "s3://$B/hello.txt"
    assert_contains "$out" "s3://$B/dir/"
}

case_info_bucket() {
    local out
    out=$(s3c info "s3://$B")
    assert_contains "$out" "s3://$B/ (bucket)"
}

case_del() {
    s3c del "s3://$B/hello.txt"
    local out
    out=$(s3c ls "s3://$B")
    assert_not_contains "$out" "hello.txt"
    assert_fails s3c info "s3://$B/hello.txt"
}

case_sync() {
    rm -rf "$W/$TAG.tree" "$W/$TAG.tree.down"
    make_tree "$W/$TAG.tree"
    s3c sync "$W/$TAG.tree/" "s3://$B/tree/"
    s3c sync "s3://$B/tree/" "$W/$TAG.tree.down/"
    diff -r "$W/$TAG.tree" "$W/$TAG.tree.down"
    # Change, delete, add; sync with --delete-removed; compare again.
    echo "changed" >"$W/$TAG.tree/top.txt"
    rm "$W/$TAG.tree/sub/numbers.txt"
    echo "added" >"$W/$TAG.tree/sub/added.txt"
    s3c sync --delete-removed "$W/$TAG.tree/" "s3://$B/tree/"
    s3c sync --delete-removed "s3://$B/tree/" "$W/$TAG.tree.down/"
    diff -r "$W/$TAG.tree" "$W/$TAG.tree.down"
    local out
    out=$(s3c ls --recursive "s3://$B/tree/")
    assert_not_contains "$out" "numbers.txt"
}

case_rb() {
    assert_fails s3c rb "s3://$B"
    s3c del --recursive --force "s3://$B"
    s3c rb "s3://$B"
    local out
    out=$(s3c ls)
    assert_not_contains "$out" "s3://$B"
}

for sigv2 in False True; do
    if [ "$sigv2" = True ]; then TAG=v2; else TAG=v4; fi
    CFG=$SUITE_TMP/s3cfg-$TAG
    B=$CAIRN_BUCKET_PREFIX-$TAG
    write_config "$CFG" "$sigv2"
    check "[$TAG] mb, ls, mb again fails" case_mb
    check "[$TAG] put/get, mime type, info" case_put_get
    check "[$TAG] put 12 MiB multipart (5 MiB chunks), get, ETag" case_put_multipart
    check "[$TAG] ls, ls --recursive, la" case_ls_la
    check "[$TAG] info on the bucket" case_info_bucket
    check "[$TAG] del" case_del
    check "[$TAG] sync up and down, --delete-removed (diff -r)" case_sync
    check "[$TAG] rb refuses non-empty, then del --recursive + rb" case_rb
done
suite_end
