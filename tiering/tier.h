/*
 * tier: asynchronous work on the object layer, each job on its own thread and
 * schedule. For now one thread: garbage collection of dead blobs (obj_gc)
 * and repair of bad shards (obj_repair).
 *
 * Ownership: the caller keeps the obj_store alive until tier_gc_stop() has
 * returned.
 */
#ifndef CN_TIER_H
#define CN_TIER_H

#include "../obj/obj.h"

typedef struct tier_gc tier_gc;

/* Starts a thread that calls obj_gc(store) every interval_s seconds (>= 1).
 * 0, -CN_EINVALID_ARGUMENT, -CN_ENOMEM or -CN_EINTERNAL. */
int tier_gc_start(tier_gc **out, obj_store *store, unsigned interval_s);
/* Wakes the thread, waits for a pass in progress to finish, frees. NULL ok. */
void tier_gc_stop(tier_gc *g);
/* Blobs removed by all passes so far (for metrics). */
uint64_t tier_gc_removed(tier_gc *g);
/* Blobs whose bad shards the passes rebuilt (obj_repair), for metrics. */
uint64_t tier_gc_repaired(tier_gc *g);

#endif
