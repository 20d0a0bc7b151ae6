// @aws-sdk/client-s3 v3 against the shared gateway of run.sh (node --test).
// The client keeps the SDK's defaults, in particular its default request
// checksums: a Buffer body gets an x-amz-checksum-crc32 header, a stream body
// is sent aws-chunked with STREAMING-UNSIGNED-PAYLOAD-TRAILER and a CRC32
// trailer. A test checks that the default path really was taken.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import {
    S3Client,
    CreateBucketCommand,
    HeadBucketCommand,
    ListBucketsCommand,
    PutObjectCommand,
    GetObjectCommand,
    HeadObjectCommand,
    ListObjectsV2Command,
    CopyObjectCommand,
    DeleteObjectCommand,
    DeleteObjectsCommand,
    DeleteBucketCommand,
    PutObjectTaggingCommand,
    GetObjectTaggingCommand,
    CreateMultipartUploadCommand,
    UploadPartCommand,
    ListPartsCommand,
    CompleteMultipartUploadCommand,
    AbortMultipartUploadCommand,
    paginateListObjectsV2,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

function need(name) {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is not set: run through tests/e2e/run.sh`);
    return v;
}

const endpoint = need("CAIRN_ENDPOINT");
const region = process.env.CAIRN_REGION || "us-east-1";
const credentials = { accessKeyId: need("CAIRN_ACCESS_KEY"), secretAccessKey: need("CAIRN_SECRET_KEY") };
const Bucket = `${need("CAIRN_BUCKET_PREFIX")}-main`;
const MiB = 1024 * 1024;

const s3 = new S3Client({ endpoint, region, credentials, forcePathStyle: true, maxAttempts: 1 });

// Record the headers of each request as sent (after signing).
const sent = [];
s3.middlewareStack.add(
    (next) => async (args) => {
        sent.push({ ...args.request.headers });
        return next(args);
    },
    { step: "deserialize", name: "recordHeaders" },
);
function lastHeaders() {
    return sent[sent.length - 1];
}

const md5 = (b) => createHash("md5").update(b).digest("hex");
const body = async (r) => Buffer.from(await r.Body.transformToByteArray());
const get = async (Key, extra = {}) => s3.send(new GetObjectCommand({ Bucket, Key, ...extra }));

async function expectError(promise, name, status) {
    await assert.rejects(promise, (e) => {
        assert.equal(e.name, name, `error name: ${e.name} ${e.message}`);
        assert.equal(e.$metadata?.httpStatusCode, status);
        assert.ok(e.$metadata?.requestId, "x-amz-request-id present");
        return true;
    });
}

after(async () => {
    try {
        for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket })) {
            const keys = (page.Contents || []).map((o) => ({ Key: o.Key }));
            if (keys.length) await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys, Quiet: true } }));
        }
        await s3.send(new DeleteBucketCommand({ Bucket }));
    } catch {
        /* best effort */
    }
});

test("create bucket, head it, list buckets", async () => {
    await s3.send(new CreateBucketCommand({ Bucket }));
    const h = await s3.send(new HeadBucketCommand({ Bucket }));
    assert.equal(h.$metadata.httpStatusCode, 200);
    const l = await s3.send(new ListBucketsCommand({}));
    assert.ok(l.Buckets.some((b) => b.Name === Bucket));
    await expectError(s3.send(new CreateBucketCommand({ Bucket })), "BucketAlreadyOwnedByYou", 409);
});

test("put Buffer (CRC32 header by default), get, compare, checksum returned", async () => {
    const data = randomBytes(300000);
    const p = await s3.send(new PutObjectCommand({ Bucket, Key: "buf.bin", Body: data }));
    assert.ok(lastHeaders()["x-amz-checksum-crc32"], "SDK sent its default CRC32 checksum");
    assert.equal(p.ETag, `"${md5(data)}"`);
    assert.equal(p.ChecksumCRC32, lastHeaders()["x-amz-checksum-crc32"]);
    const g = await get("buf.bin", { ChecksumMode: "ENABLED" });
    assert.deepEqual(await body(g), data);
    assert.equal(g.ChecksumCRC32, p.ChecksumCRC32);
});

test("put stream: aws-chunked with STREAMING-UNSIGNED-PAYLOAD-TRAILER, get, compare", async () => {
    const data = randomBytes(1 * MiB + 12345);
    const chunks = [];
    for (let i = 0; i < data.length; i += 100000) chunks.push(data.subarray(i, i + 100000));
    const p = await s3.send(
        new PutObjectCommand({ Bucket, Key: "stream.bin", Body: Readable.from(chunks), ContentLength: data.length }),
    );
    const h = lastHeaders();
    assert.equal(h["x-amz-content-sha256"], "STREAMING-UNSIGNED-PAYLOAD-TRAILER");
    assert.match(h["content-encoding"] || "", /aws-chunked/);
    assert.equal(h["x-amz-trailer"], "x-amz-checksum-crc32");
    assert.equal(p.ETag, `"${md5(data)}"`);
    const g = await get("stream.bin", { ChecksumMode: "ENABLED" });
    assert.deepEqual(await body(g), data);
    assert.equal(g.ContentLength, data.length);
    assert.ok(g.ChecksumCRC32, "CRC32 from the trailer is returned");
    assert.ok(!(g.ContentEncoding || "").includes("aws-chunked"), "aws-chunked is not stored as Content-Encoding");
});

test("head object with metadata and content type", async () => {
    await s3.send(
        new PutObjectCommand({
            Bucket, Key: "meta.txt", Body: "hello sdk", ContentType: "text/plain; charset=utf-8",
            Metadata: { owner: "node", "multi-word": "A B C" }, CacheControl: "max-age=5",
        }),
    );
    const h = await s3.send(new HeadObjectCommand({ Bucket, Key: "meta.txt" }));
    assert.equal(h.ContentLength, 9);
    assert.equal(h.ContentType, "text/plain; charset=utf-8");
    assert.deepEqual(h.Metadata, { owner: "node", "multi-word": "A B C" });
    assert.equal(h.CacheControl, "max-age=5");
    assert.equal(h.ETag, `"${md5("hello sdk")}"`);
    await expectError(s3.send(new HeadObjectCommand({ Bucket, Key: "missing" })), "NotFound", 404);
    await expectError(get("missing"), "NoSuchKey", 404);
});

test("range get", async () => {
    const g = await get("buf.bin", { Range: "bytes=1000-1999" });
    assert.equal(g.$metadata.httpStatusCode, 206);
    assert.equal(g.ContentRange, "bytes 1000-1999/300000");
    assert.equal((await body(g)).length, 1000);
    await expectError(get("buf.bin", { Range: "bytes=400000-" }), "InvalidRange", 416);
});

test("list objects v2 with prefix, delimiter and pagination", async () => {
    const keys = ["list/a/1", "list/a/2", "list/b/1", "list/c", "list/d", "list/ü ñ"];
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket, Key, Body: Key }));
    const seen = [];
    let pages = 0;
    for await (const page of paginateListObjectsV2({ client: s3, pageSize: 2 }, { Bucket, Prefix: "list/" })) {
        pages++;
        assert.ok((page.Contents || []).length <= 2);
        seen.push(...(page.Contents || []).map((o) => o.Key));
    }
    assert.deepEqual(seen, keys);
    assert.equal(pages, 3);
    const d = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: "list/", Delimiter: "/" }));
    assert.deepEqual(d.Contents.map((o) => o.Key), ["list/c", "list/d", "list/ü ñ"]);
    assert.deepEqual(d.CommonPrefixes.map((p) => p.Prefix), ["list/a/", "list/b/"]);
});

test("multipart with lib-storage Upload (12 MiB, 5 MiB parts)", async () => {
    const data = randomBytes(12 * MiB);
    const up = new Upload({
        client: s3, params: { Bucket, Key: "lib-storage.bin", Body: data, ContentType: "application/x-big" },
        partSize: 5 * MiB, queueSize: 2, leavePartsOnError: false,
    });
    const r = await up.done();
    assert.match(r.ETag, /-3"$/);
    const g = await get("lib-storage.bin");
    assert.equal(g.ContentLength, data.length);
    assert.equal(g.ContentType, "application/x-big");
    assert.ok((await body(g)).equals(data));
});

test("manual multipart: create, upload parts, list parts, complete; abort", async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(2 * MiB + 7)];
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: "manual.bin" }));
    const done = [];
    for (let i = 0; i < parts.length; i++) {
        const r = await s3.send(new UploadPartCommand({ Bucket, Key: "manual.bin", UploadId, PartNumber: i + 1, Body: parts[i] }));
        assert.equal(r.ETag, `"${md5(parts[i])}"`);
        done.push({ PartNumber: i + 1, ETag: r.ETag, ChecksumCRC32: r.ChecksumCRC32 });
    }
    const lp = await s3.send(new ListPartsCommand({ Bucket, Key: "manual.bin", UploadId }));
    assert.deepEqual(lp.Parts.map((p) => [p.PartNumber, p.Size]), [[1, 5 * MiB], [2, 2 * MiB + 7]]);
    const c = await s3.send(
        new CompleteMultipartUploadCommand({ Bucket, Key: "manual.bin", UploadId, MultipartUpload: { Parts: done } }),
    );
    const want = md5(Buffer.concat(parts.map((p) => createHash("md5").update(p).digest()))) + "-2";
    assert.equal(c.ETag, `"${want}"`);
    assert.ok((await body(await get("manual.bin"))).equals(Buffer.concat(parts)));

    const ab = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: "aborted.bin" }));
    await s3.send(new AbortMultipartUploadCommand({ Bucket, Key: "aborted.bin", UploadId: ab.UploadId }));
    await expectError(s3.send(new ListPartsCommand({ Bucket, Key: "aborted.bin", UploadId: ab.UploadId })), "NoSuchUpload", 404);
});

test("copy object (COPY and REPLACE)", async () => {
    const c = await s3.send(new CopyObjectCommand({ Bucket, Key: "copy.txt", CopySource: `${Bucket}/meta.txt` }));
    assert.equal(c.CopyObjectResult.ETag, `"${md5("hello sdk")}"`);
    const h = await s3.send(new HeadObjectCommand({ Bucket, Key: "copy.txt" }));
    assert.deepEqual(h.Metadata, { owner: "node", "multi-word": "A B C" });
    await s3.send(
        new CopyObjectCommand({
            Bucket, Key: "copy2.txt", CopySource: `${Bucket}/meta.txt`, MetadataDirective: "REPLACE",
            Metadata: { fresh: "1" }, ContentType: "text/x-new",
        }),
    );
    const h2 = await s3.send(new HeadObjectCommand({ Bucket, Key: "copy2.txt" }));
    assert.deepEqual(h2.Metadata, { fresh: "1" });
    assert.equal(h2.ContentType, "text/x-new");
    assert.equal((await body(await get("copy2.txt"))).toString(), "hello sdk");
});

test("object tagging", async () => {
    await s3.send(
        new PutObjectTaggingCommand({ Bucket, Key: "meta.txt", Tagging: { TagSet: [{ Key: "k", Value: "v 1" }, { Key: "x", Value: "" }] } }),
    );
    const t = await s3.send(new GetObjectTaggingCommand({ Bucket, Key: "meta.txt" }));
    assert.deepEqual(
        t.TagSet.map((x) => [x.Key, x.Value]).sort(),
        [["k", "v 1"], ["x", ""]],
    );
    const g = await get("meta.txt");
    assert.equal(g.TagCount, 2);
    await g.Body.transformToByteArray();
});

test("presigned GET and PUT URLs fetched with fetch()", async () => {
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket, Key: "meta.txt" }), { expiresIn: 300 });
    const r = await fetch(url);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), "hello sdk");
    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket, Key: "presigned-put.txt" }), { expiresIn: 300 });
    const pr = await fetch(putUrl, { method: "PUT", body: "via presigned put" });
    assert.equal(pr.status, 200, await pr.text());
    assert.equal((await body(await get("presigned-put.txt"))).toString(), "via presigned put");
    const bad = url.replace(/X-Amz-Signature=[0-9a-f]{4}/, "X-Amz-Signature=0000");
    const br = await fetch(bad);
    assert.equal(br.status, 403);
    assert.match(await br.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
});

test("delete object and delete objects", async () => {
    await s3.send(new DeleteObjectCommand({ Bucket, Key: "copy2.txt" }));
    await expectError(s3.send(new HeadObjectCommand({ Bucket, Key: "copy2.txt" })), "NotFound", 404);
    const r = await s3.send(
        new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: "list/a/1" }, { Key: "list/a/2" }, { Key: "copy.txt" }] } }),
    );
    assert.deepEqual(r.Deleted.map((d) => d.Key).sort(), ["copy.txt", "list/a/1", "list/a/2"]);
    assert.ok(!r.Errors || r.Errors.length === 0);
    const l = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: "list/a/" }));
    assert.equal(l.KeyCount, 0);
});
