#!/usr/bin/env bash
# aws-cli v2 (Debian's /usr/bin/aws) against the shared gateway of run.sh:
# `aws s3` (mb, cp incl. multipart, ls, sync both ways, rm, mv, rb, presign)
# and `aws s3api` (put/head/get-object, list-objects-v2, multipart, tagging,
# delete-objects, versioning). The host's AWS config is kept out (AWS_CONFIG_FILE).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
suite_begin awscli
require_cmd /usr/bin/aws curl /usr/bin/python3

export AWS_ACCESS_KEY_ID=$CAIRN_ACCESS_KEY
export AWS_SECRET_ACCESS_KEY=$CAIRN_SECRET_KEY
export AWS_DEFAULT_REGION=$CAIRN_REGION
export AWS_CONFIG_FILE=$SUITE_TMP/aws-config
export AWS_SHARED_CREDENTIALS_FILE=$SUITE_TMP/aws-credentials
export AWS_PAGER=""
unset AWS_PROFILE AWS_ENDPOINT_URL AWS_SESSION_TOKEN 2>/dev/null || true
cat >"$AWS_CONFIG_FILE" <<EOF
[default]
max_attempts = 1
s3 =
    addressing_style = path
EOF
: >"$AWS_SHARED_CREDENTIALS_FILE"

B=$CAIRN_BUCKET_PREFIX-main
W=$SUITE_TMP/work
mkdir -p "$W"

awsx() { /usr/bin/aws --endpoint-url "$CAIRN_ENDPOINT" "$@"; }

# md5-of-md5s ETag (quoted) of FILE cut into CHUNK-byte parts.
multipart_etag() {
    /usr/bin/python3 - "$1" "$2" <<'EOF'
import hashlib, sys
path, chunk = sys.argv[1], int(sys.argv[2])
digests = []
with open(path, "rb") as f:
    while True:
        b = f.read(chunk)
        if not b:
            break
        digests.append(hashlib.md5(b).digest())
print('"%s-%d"' % (hashlib.md5(b"".join(digests)).hexdigest(), len(digests)))
EOF
}

case_mb() {
    local out
    out=$(awsx s3 mb "s3://$B")
    assert_contains "$out" "make_bucket: $B"
    out=$(awsx s3 ls)
    assert_contains "$out" " $B"
    # A second mb of the same bucket fails.
    assert_fails awsx s3 mb "s3://$B"
}

case_cp_small() {
    make_file "$W/small.bin" 100000
    awsx s3 cp "$W/small.bin" "s3://$B/small.bin"
    awsx s3 cp "s3://$B/small.bin" "$W/small.down"
    assert_same_file "$W/small.bin" "$W/small.down"
    local etag
    etag=$(awsx s3api head-object --bucket "$B" --key small.bin --query ETag --output text)
    assert_eq "\"$(md5sum <"$W/small.bin" | cut -d' ' -f1)\"" "$etag" "ETag is the MD5"
}

case_cp_multipart() {
    make_file "$W/big.bin" $((20 * 1024 * 1024))
    local out etag
    # aws-cli's default multipart threshold and chunk size are 8 MiB: 3 parts.
    out=$(awsx s3 cp "$W/big.bin" "s3://$B/dir/big.bin" --no-progress)
    assert_contains "$out" "upload:"
    etag=$(awsx s3api head-object --bucket "$B" --key dir/big.bin --query ETag --output text)
    assert_eq "$(multipart_etag "$W/big.bin" $((8 * 1024 * 1024)))" "$etag" "multipart ETag"
    awsx s3 cp "s3://$B/dir/big.bin" "$W/big.down" --no-progress
    assert_same_file "$W/big.bin" "$W/big.down"
}

case_cp_stdin_stdout() {
    seq 1 20000 | awsx s3 cp - "s3://$B/stream.txt"
    local got
    got=$(awsx s3 cp "s3://$B/stream.txt" - | md5sum)
    assert_eq "$(seq 1 20000 | md5sum)" "$got"
}

case_cp_missing_fails() {
    assert_fails awsx s3 cp "s3://$B/does/not/exist" "$W/nothing"
    [ ! -e "$W/nothing" ]
}

case_ls() {
    local out
    out=$(awsx s3 ls "s3://$B/")
    assert_contains "$out" "PRE dir/"
    assert_contains "$out" "100000 small.bin"
    out=$(awsx s3 ls "s3://$B/" --recursive)
    assert_contains "$out" "20971520 dir/big.bin"
    assert_contains "$out" "100000 small.bin"
    out=$(awsx s3 ls "s3://$B/di")
    assert_contains "$out" "PRE dir/"
    assert_not_contains "$out" "small.bin"
}

case_sync_up_down() {
    make_tree "$W/tree"
    awsx s3 sync "$W/tree" "s3://$B/tree" --no-progress
    awsx s3 sync "s3://$B/tree" "$W/tree.down" --no-progress
    diff -r "$W/tree" "$W/tree.down"
    # Nothing changed: a second sync transfers nothing (sizes and times agree).
    local out
    out=$(awsx s3 sync "$W/tree" "s3://$B/tree" --no-progress)
    assert_eq "" "$out" "second sync up"
    out=$(awsx s3 sync "s3://$B/tree" "$W/tree.down" --no-progress)
    assert_eq "" "$out" "second sync down"
}

case_sync_changes_and_delete() {
    echo "changed content, longer than before" >"$W/tree/top.txt"
    rm "$W/tree/sub/numbers.txt"
    echo new >"$W/tree/sub/new file.txt"
    local out
    out=$(awsx s3 sync "$W/tree" "s3://$B/tree" --delete --no-progress)
    assert_contains "$out" "upload: "
    assert_contains "$out" "delete: s3://$B/tree/sub/numbers.txt"
    rm -rf "$W/tree.down2"
    awsx s3 sync "s3://$B/tree" "$W/tree.down2" --no-progress
    diff -r "$W/tree" "$W/tree.down2"
}

case_mv() {
    awsx s3 cp "$W/small.bin" "s3://$B/mv/src.bin"
    awsx s3 mv "s3://$B/mv/src.bin" "s3://$B/mv/dst.bin"
    awsx s3 cp "s3://$B/mv/dst.bin" "$W/mv.down"
    assert_same_file "$W/small.bin" "$W/mv.down"
    assert_fails awsx s3api head-object --bucket "$B" --key mv/src.bin
}

case_rm_recursive() {
    awsx s3 rm "s3://$B/tree" --recursive
    local n
    # shellcheck disable=SC2016 # a JMESPath literal, not a shell expansion
    n=$(awsx s3api list-objects-v2 --bucket "$B" --prefix tree/ --query 'length(Contents || `[]`)' --output text)
    assert_eq 0 "$n" "objects left under tree/"
    # Other keys are untouched.
    awsx s3api head-object --bucket "$B" --key small.bin >/dev/null
}

case_s3api_put_head() {
    make_file "$W/api.bin" 4321
    local out
    out=$(awsx s3api put-object --bucket "$B" --key "api/obj one.bin" --body "$W/api.bin" \
        --content-type application/x-test --metadata color=green,shape=round \
        --cache-control no-cache --query ETag --output text)
    assert_eq "\"$(md5sum <"$W/api.bin" | cut -d' ' -f1)\"" "$out"
    out=$(awsx s3api head-object --bucket "$B" --key "api/obj one.bin" --output json)
    /usr/bin/python3 - "$out" <<'EOF'
import json, sys
h = json.loads(sys.argv[1])
assert h["ContentLength"] == 4321, h
assert h["ContentType"] == "application/x-test", h
assert h["Metadata"] == {"color": "green", "shape": "round"}, h
assert h["CacheControl"] == "no-cache", h
EOF
    assert_fails awsx s3api head-object --bucket "$B" --key "api/missing"
}

case_s3api_list_v2() {
    local k
    for k in a/1 a/2 a/3 b/1 c; do
        echo "$k" >"$W/listbody"
        awsx s3api put-object --bucket "$B" --key "list/$k" --body "$W/listbody" >/dev/null
    done
    local out
    out=$(awsx s3api list-objects-v2 --bucket "$B" --prefix list/ --query 'Contents[].Key' --output text)
    assert_eq "list/a/1	list/a/2	list/a/3	list/b/1	list/c" "$out"
    out=$(awsx s3api list-objects-v2 --bucket "$B" --prefix list/ --delimiter / \
        --query 'CommonPrefixes[].Prefix' --output text)
    assert_eq "list/a/	list/b/" "$out"
    # Pagination through the CLI (page size 2 -> several requests).
    out=$(awsx s3api list-objects-v2 --bucket "$B" --prefix list/ --page-size 2 --query 'Contents[].Key' --output text |
        tr -s '\t\n' '  ')
    assert_eq "list/a/1 list/a/2 list/a/3 list/b/1 list/c " "$out" "paged listing"
    out=$(awsx s3api list-objects-v2 --bucket "$B" --prefix list/ --max-keys 2 --no-paginate --output json)
    /usr/bin/python3 - "$out" <<'EOF'
import json, sys
r = json.loads(sys.argv[1])
assert [o["Key"] for o in r["Contents"]] == ["list/a/1", "list/a/2"], r
assert r["IsTruncated"] is True and r["NextContinuationToken"], r
EOF
}

case_s3api_multipart() {
    make_file "$W/p1" $((5 * 1024 * 1024))
    make_file "$W/p2" 777777
    local up e1 e2 out
    up=$(awsx s3api create-multipart-upload --bucket "$B" --key mpu/obj --query UploadId --output text)
    [ -n "$up" ]
    e1=$(awsx s3api upload-part --bucket "$B" --key mpu/obj --upload-id "$up" --part-number 1 \
        --body "$W/p1" --query ETag --output text)
    e2=$(awsx s3api upload-part --bucket "$B" --key mpu/obj --upload-id "$up" --part-number 2 \
        --body "$W/p2" --query ETag --output text)
    out=$(awsx s3api list-parts --bucket "$B" --key mpu/obj --upload-id "$up" \
        --query 'Parts[].[PartNumber,Size]' --output text | tr -s '\t\n' '  ')
    assert_eq "1 5242880 2 777777 " "$out" "list-parts"
    out=$(awsx s3api list-multipart-uploads --bucket "$B" --query 'Uploads[].UploadId' --output text)
    assert_contains "$out" "$up"
    printf '{"Parts":[{"PartNumber":1,"ETag":%s},{"PartNumber":2,"ETag":%s}]}' \
        "$(printf '%s' "$e1" | /usr/bin/python3 -c 'import json,sys;print(json.dumps(sys.stdin.read()))')" \
        "$(printf '%s' "$e2" | /usr/bin/python3 -c 'import json,sys;print(json.dumps(sys.stdin.read()))')" \
        >"$W/parts.json"
    out=$(awsx s3api complete-multipart-upload --bucket "$B" --key mpu/obj --upload-id "$up" \
        --multipart-upload "file://$W/parts.json" --query ETag --output text)
    cat "$W/p1" "$W/p2" >"$W/mpu.expected"
    assert_eq "$(multipart_etag "$W/mpu.expected" $((5 * 1024 * 1024)))" "$out" "complete ETag"
    awsx s3api get-object --bucket "$B" --key mpu/obj "$W/mpu.down" >/dev/null
    assert_same_file "$W/mpu.expected" "$W/mpu.down"
}

case_s3api_abort() {
    local up
    up=$(awsx s3api create-multipart-upload --bucket "$B" --key mpu/aborted --query UploadId --output text)
    awsx s3api abort-multipart-upload --bucket "$B" --key mpu/aborted --upload-id "$up"
    local err
    err=$(awsx s3api list-parts --bucket "$B" --key mpu/aborted --upload-id "$up" 2>&1 >/dev/null || true)
    assert_contains "$err" "NoSuchUpload"
}

case_s3api_get_range() {
    awsx s3api get-object --bucket "$B" --key small.bin --range bytes=100-1099 "$W/range.out" >"$W/range.json"
    head -c 1100 "$W/small.bin" | tail -c 1000 >"$W/range.expected"
    assert_same_file "$W/range.expected" "$W/range.out"
    /usr/bin/python3 - "$W/range.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ContentRange"] == "bytes 100-1099/100000", r
assert r["ContentLength"] == 1000, r
EOF
    awsx s3api get-object --bucket "$B" --key small.bin --range bytes=-10 "$W/range2.out" >/dev/null
    tail -c 10 "$W/small.bin" >"$W/range2.expected"
    assert_same_file "$W/range2.expected" "$W/range2.out"
    local err
    err=$(awsx s3api get-object --bucket "$B" --key small.bin --range bytes=200000-300000 "$W/range3.out" 2>&1 >/dev/null || true)
    assert_contains "$err" "InvalidRange"
}

case_s3api_tagging() {
    awsx s3api put-object-tagging --bucket "$B" --key small.bin \
        --tagging 'TagSet=[{Key=project,Value=cairn},{Key=stage,Value=e2e test}]'
    local out
    out=$(awsx s3api get-object-tagging --bucket "$B" --key small.bin \
        --query 'TagSet[].[Key,Value]' --output text | sort | tr -s '\t\n' '|;')
    assert_eq "project|cairn;stage|e2e test;" "$out"
    awsx s3api delete-object-tagging --bucket "$B" --key small.bin
    out=$(awsx s3api get-object-tagging --bucket "$B" --key small.bin --query 'length(TagSet)' --output text)
    assert_eq 0 "$out"
    awsx s3api put-bucket-tagging --bucket "$B" --tagging 'TagSet=[{Key=owner,Value=e2e}]'
    out=$(awsx s3api get-bucket-tagging --bucket "$B" --query 'TagSet[0].Value' --output text)
    assert_eq e2e "$out"
}

case_s3api_copy() {
    awsx s3api copy-object --bucket "$B" --key copy/small.bin --copy-source "$B/small.bin" >/dev/null
    awsx s3 cp "s3://$B/copy/small.bin" "$W/copy.down"
    assert_same_file "$W/small.bin" "$W/copy.down"
}

case_s3api_delete_objects() {
    local out
    out=$(awsx s3api delete-objects --bucket "$B" \
        --delete '{"Objects":[{"Key":"list/a/1"},{"Key":"list/a/2"},{"Key":"list/nope"}]}' \
        --query 'Deleted[].Key' --output text | tr -s '\t\n' '  ')
    for k in list/a/1 list/a/2 list/nope; do assert_contains "$out" "$k"; done
    out=$(awsx s3api list-objects-v2 --bucket "$B" --prefix list/ --query 'Contents[].Key' --output text)
    assert_eq "list/a/3	list/b/1	list/c" "$out"
    out=$(awsx s3api delete-objects --bucket "$B" --delete '{"Objects":[{"Key":"list/c"}],"Quiet":true}' --output json)
    assert_not_contains "$out" "Deleted"
    assert_fails awsx s3api head-object --bucket "$B" --key list/c
}

case_presign() {
    local url code
    url=$(awsx s3 presign "s3://$B/small.bin" --expires-in 300)
    assert_contains "$url" "X-Amz-Signature="
    curl -sf -o "$W/presigned.down" "$url"
    assert_same_file "$W/small.bin" "$W/presigned.down"
    url=$(awsx s3 presign "s3://$B/small.bin" --expires-in 1)
    sleep 2.5
    code=$(curl -s -o "$W/expired.xml" -w '%{http_code}' "$url")
    assert_eq 403 "$code" "expired presigned URL"
    assert_contains "$(cat "$W/expired.xml")" "<Code>AccessDenied</Code>"
}

V=$CAIRN_BUCKET_PREFIX-versions

# Every versioning operation through aws s3api, on a bucket of its own.
case_s3api_versioning() {
    local out v1 v2 marker
    awsx s3api create-bucket --bucket "$V" >/dev/null
    out=$(awsx s3api get-bucket-versioning --bucket "$V" --output json)
    assert_not_contains "$out" "Status"
    awsx s3api put-bucket-versioning --bucket "$V" --versioning-configuration Status=Enabled
    out=$(awsx s3api get-bucket-versioning --bucket "$V" --query Status --output text)
    assert_eq Enabled "$out"
    printf 'one' >"$W/v1"
    printf 'two!' >"$W/v2"
    v1=$(awsx s3api put-object --bucket "$V" --key doc --body "$W/v1" --query VersionId --output text)
    v2=$(awsx s3api put-object --bucket "$V" --key doc --body "$W/v2" --query VersionId --output text)
    [ -n "$v1" ] && [ "$v1" != None ] && [ "$v1" != null ] || die "no version id: '$v1'"
    [ "$v1" != "$v2" ] || die "two PUTs got one version id"
    awsx s3api get-object --bucket "$V" --key doc --version-id "$v1" "$W/v1.down" >/dev/null
    assert_same_file "$W/v1" "$W/v1.down"
    out=$(awsx s3api head-object --bucket "$V" --key doc --query VersionId --output text)
    assert_eq "$v2" "$out"
    marker=$(awsx s3api delete-object --bucket "$V" --key doc --query VersionId --output text)
    assert_fails awsx s3api head-object --bucket "$V" --key doc
    out=$(awsx s3api list-object-versions --bucket "$V" --prefix doc \
        --query '[length(Versions), length(DeleteMarkers), DeleteMarkers[0].IsLatest]' --output text)
    assert_eq "2	1	True" "$out"
    # removing the marker by id brings v2 back; removing v2 by id leaves v1
    awsx s3api delete-object --bucket "$V" --key doc --version-id "$marker" >/dev/null
    awsx s3api delete-object --bucket "$V" --key doc --version-id "$v2" >/dev/null
    awsx s3api get-object --bucket "$V" --key doc "$W/latest.down" >/dev/null
    assert_same_file "$W/v1" "$W/latest.down"
    awsx s3api put-bucket-versioning --bucket "$V" --versioning-configuration Status=Suspended
    out=$(awsx s3api put-object --bucket "$V" --key doc --body "$W/v2" --query VersionId --output text)
    case "$out" in null | None) ;; *) die "a suspended bucket's PUT made version '$out'" ;; esac
    out=$(awsx s3api list-object-versions --bucket "$V" --query 'Versions[].VersionId' --output text)
    assert_contains "$out" "$v1"
    assert_contains "$out" "null"
    awsx s3api delete-object --bucket "$V" --key doc --version-id "$v1" >/dev/null
    awsx s3api delete-object --bucket "$V" --key doc --version-id null >/dev/null
    awsx s3api delete-bucket --bucket "$V"
}

case_rb() {
    local err
    err=$(awsx s3 rb "s3://$B" 2>&1 || true)
    assert_contains "$err" "BucketNotEmpty"
    awsx s3 rb "s3://$B" --force
    local out
    out=$(awsx s3 ls)
    assert_not_contains "$out" " $B"
    assert_fails awsx s3api head-bucket --bucket "$B"
}

check "s3 mb, ls shows it, mb again fails" case_mb
check "s3 cp up/down 100 KB, ETag = MD5" case_cp_small
check "s3 cp 20 MiB (multipart, md5-of-md5s ETag)" case_cp_multipart
check "s3 cp from stdin / to stdout" case_cp_stdin_stdout
check "s3 cp of a missing key fails" case_cp_missing_fails
check "s3 ls (prefixes, recursive, partial prefix)" case_ls
check "s3 sync tree up and down (diff -r), no-op resync" case_sync_up_down
check "s3 sync --delete with changes" case_sync_changes_and_delete
check "s3 mv (copy + delete)" case_mv
check "s3 rm --recursive" case_rm_recursive
check "s3api put-object / head-object with metadata" case_s3api_put_head
check "s3api list-objects-v2 (prefix, delimiter, pagination)" case_s3api_list_v2
check "s3api create/upload-part/list-parts/complete multipart" case_s3api_multipart
check "s3api abort-multipart-upload -> NoSuchUpload" case_s3api_abort
check "s3api get-object --range (a-b, -n, 416)" case_s3api_get_range
check "s3api object and bucket tagging" case_s3api_tagging
check "s3api copy-object" case_s3api_copy
check "s3api delete-objects (verbose and quiet)" case_s3api_delete_objects
check "s3 presign fetched with curl; expired -> 403" case_presign
check "s3api versioning: enable, version ids, markers, list, delete by id, suspend" case_s3api_versioning
check "s3 rb: BucketNotEmpty, then --force" case_rb
suite_end
