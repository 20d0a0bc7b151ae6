/*
 * meta_schema: creation of the metadata tables (obj/schema.c). Internal to obj/.
 */
#ifndef CN_OBJ_META_SCHEMA_H
#define CN_OBJ_META_SCHEMA_H

#include <sqlite3.h>

/* Creates missing tables and indexes in one transaction. 0 or -CN_EIO. */
int obj__schema_apply(sqlite3 *db);

#endif
