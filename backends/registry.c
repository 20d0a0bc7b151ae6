/*
 * registry: the static table of provider drivers, looked up by name.
 *
 * Drivers are compiled in; adding one means one line here and one exported
 * const be_driver in its own file. The table never changes at run time, so
 * lookups need no locking.
 */
#include <string.h>

#include "be.h"

static const be_driver *const drivers[] = {
    &be_posix_driver,
    &be_s3_driver,
};

const be_driver *be_driver_find(const char *name)
{
    size_t i = 0;

    if (name == NULL)
        return NULL;
    for (i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
        if (strcmp(drivers[i]->name, name) == 0)
            return drivers[i];
    return NULL;
}
