/* Unit tests for gateway/config.c: the directive table and the YAML loader. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../gateway/gateway.h"

static char *write_tmp(const char *text)
{
    static char path[64];
    int fd;

    snprintf(path, sizeof(path), "/tmp/cairn-conf-XXXXXX");
    fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    return path;
}

Test(config, sample_file_loads)
{
    gw_config c;
    char err[512] = "";

    gw_config_init(&c);
    cr_assert_eq(gw_config_load(&c, "conf/cairn.yaml", err, sizeof(err)), 0, "%s", err);
    cr_expect_str_eq(c.region, "us-east-1");
    cr_expect_eq(c.request_timeout, 900);
    cr_expect_eq(c.spill_threshold, 4u << 20);
    gw_config_dispose(&c);
}

Test(config, nested_keys_and_sizes)
{
    gw_config c;
    char err[512] = "";
    char *p = write_tmp("listen: 127.0.0.1:1234\nhttp:\n  max_body: 2G\n  request_timeout: 60\n");

    gw_config_init(&c);
    cr_assert_eq(gw_config_load(&c, p, err, sizeof(err)), 0, "%s", err);
    cr_expect_str_eq(c.listen, "127.0.0.1:1234");
    cr_expect_eq(c.max_body, 2ull << 30);
    cr_expect_eq(c.request_timeout, 60);
    gw_config_dispose(&c);
    unlink(p);
}

Test(config, unknown_key_fails_with_file_and_line)
{
    gw_config c;
    char err[512] = "";
    char *p = write_tmp("listen: 127.0.0.1:1\nhttp:\n  max_bdy: 2G\n");
    char want[128];

    gw_config_init(&c);
    cr_expect_eq(gw_config_load(&c, p, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:3:", p);
    cr_expect(strstr(err, want) != NULL, "error should name file and line: %s", err);
    cr_expect(strstr(err, "http.max_bdy") != NULL, "%s", err);
    gw_config_dispose(&c);
    unlink(p);
}

Test(config, ill_typed_value_fails)
{
    gw_config c;
    char err[512] = "";

    gw_config_init(&c);
    cr_expect_eq(gw_config_set(&c, "threads", "many", err, sizeof(err)), -1);
    cr_expect_eq(gw_config_set(&c, "http.max_body", "12Q", err, sizeof(err)), -1);
    cr_expect_eq(gw_config_set(&c, "threads", "4", err, sizeof(err)), 0);
    cr_expect_eq(c.threads, 4);
    gw_config_dispose(&c);
}
