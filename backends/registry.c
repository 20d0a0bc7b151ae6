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
    &be_azure_driver,
};

int be_name_chars_valid(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n > max || strstr(s, "..") != NULL)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
              ch == '_' || ch == '-' || ch == '/'))
            return 0;
    }
    return 1;
}

int be_name_valid(const char *name, size_t max)
{
    return name != NULL && name[0] != '\0' && name[0] != '/' && strcmp(name, ".") != 0 &&
           be_name_chars_valid(name, max);
}

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
