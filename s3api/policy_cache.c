/*
 * policy_cache: parsed bucket policies kept between requests, so that the
 * policy step of authorization (authz_policy.c) parses a bucket's JSON once
 * per change of it rather than once per request.
 *
 * Design notes:
 *  1. Keyed by (bucket name, policy generation). The object layer gives
 *     every write of a policy a generation never used before in the store
 *     (obj/access.c), and obj_bucket_get() returns it with the bucket row
 *     the chain reads anyway: a hit needs no read of the document, and a
 *     policy replaced or deleted can never be served from the cache, since
 *     the request asks for the new generation.
 *  2. Direct-mapped: CACHE_SLOTS slots, a bucket's slot chosen by a hash of
 *     its name. Two buckets with policies in one slot evict each other and
 *     are re-parsed, which costs time, never correctness. This bounds the
 *     memory held to CACHE_SLOTS parsed policies of at most
 *     AUTH_POLICY_MAX_BYTES of text each.
 *  3. One mutex guards the slots; it is held only to compare and take or
 *     swap a reference, never while reading SQLite or parsing. A policy is
 *     immutable once parsed (auth/policy.h): a request keeps evaluating the
 *     reference it took while another request swaps the slot.
 *  4. A miss reads the document and the generation in one transaction and
 *     caches the parse under the generation it read, which may be newer than
 *     the one asked for; a request that raced a PutBucketPolicy then
 *     evaluates the newer policy, as it would a moment later.
 *  5. Without a cache (ctx->policies NULL, as in unit tests) every call
 *     parses. Why cache at all, measured (-O2, no sanitizers, one core of
 *     the development machine): parsing takes about 20 us for a policy of
 *     three statements and 0.5 ms for one of 20 KiB, while evaluating
 *     either takes 0.1-0.2 us; a hit costs one uncontended lock.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3int.h"

#define CACHE_SLOTS 64

typedef struct slot {
    char bucket[sizeof(((obj_bucket *)0)->name)];
    int64_t gen; /* 0: empty */
    auth_policy *p;
} slot;

struct s3_policy_cache {
    pthread_mutex_t mu;
    slot slots[CACHE_SLOTS];
};

int s3_policy_cache_create(s3_policy_cache **out)
{
    s3_policy_cache *c = calloc(1, sizeof(*c));

    *out = NULL;
    if (c == NULL)
        return -CN_ENOMEM;
    if (pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c);
        return -CN_ENOMEM;
    }
    *out = c;
    return 0;
}

void s3_policy_cache_destroy(s3_policy_cache *c)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < CACHE_SLOTS; i++)
        auth_policy_unref(c->slots[i].p);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* FNV-1a: bucket names are short and not chosen to collide by anyone who
 * gains from it (a collision costs a re-parse, note 2). */
static slot *slot_of(s3_policy_cache *c, const char *bucket)
{
    uint32_t h = 2166136261u;

    for (; *bucket != '\0'; bucket++)
        h = (h ^ (uint8_t)*bucket) * 16777619u;
    return &c->slots[h % CACHE_SLOTS];
}

static auth_policy *lookup(s3_policy_cache *c, const char *bucket, int64_t gen)
{
    auth_policy *p = NULL;
    slot *s = slot_of(c, bucket);

    pthread_mutex_lock(&c->mu);
    if (s->gen == gen && strcmp(s->bucket, bucket) == 0)
        p = auth_policy_ref(s->p);
    pthread_mutex_unlock(&c->mu);
    return p;
}

static void store(s3_policy_cache *c, const char *bucket, int64_t gen, auth_policy *p)
{
    auth_policy *old = NULL;
    slot *s = slot_of(c, bucket);

    pthread_mutex_lock(&c->mu);
    /* Never replace a newer generation of the same bucket with an older one. */
    if (strcmp(s->bucket, bucket) != 0 || s->gen < gen) {
        old = s->p;
        snprintf(s->bucket, sizeof(s->bucket), "%s", bucket);
        s->gen = gen;
        s->p = auth_policy_ref(p);
    }
    pthread_mutex_unlock(&c->mu);
    auth_policy_unref(old);
}

/* Note 4: reads and parses the current document of bucket. */
static int load(const s3_ctx *ctx, const char *bucket, auth_policy **out, int64_t *gen, char *why, size_t whycap)
{
    char *json = NULL;
    size_t len = 0;
    int err = obj_bucket_policy_get(ctx->store, bucket, &json, &len, gen);

    if (err == 0 && json != NULL)
        err = auth_policy_parse(out, bucket, json, len, why, whycap);
    free(json);
    return err;
}

int s3__policy_get(const s3_ctx *ctx, const obj_bucket *b, auth_policy **out, char *why, size_t whycap)
{
    int64_t gen = 0;
    int err;

    *out = NULL;
    if (ctx->policies != NULL) {
        *out = lookup(ctx->policies, b->name, b->policy_gen);
        if (*out != NULL)
            return 0;
    }
    err = load(ctx, b->name, out, &gen, why, whycap);
    if (err == 0 && *out != NULL && ctx->policies != NULL)
        store(ctx->policies, b->name, gen, *out);
    return err;
}
