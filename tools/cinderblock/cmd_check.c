/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_check.c: `cinderblock check`: the store's setup check. */
#include "cli.h"
#include "output.h"

static const char check_usage[] = "Usage: cinderblock [--store URL] check\n"
                                  "Check the store's configuration and that it can be reached.\n";

int cmd_check(cli *c, int argc, char **argv)
{
    cb_error err = { 0 };
    int first, done, rc;

    if ((rc = cli_parse(c, argc, argv, NULL, NULL, NULL, NULL, check_usage, &first, &done)) != 0 ||
        done)
        return rc;
    if (first != argc)
        return cli_usage_error(c, check_usage, "check: unexpected argument '%s'", argv[first]);
    if ((rc = cli_open_store(c)) != 0)
        return rc;
    if (cb_store_check(c->store, &err) < 0)
        return cli_fail(c, &err);
    if (c->json) {
        json_t *o = json_object();
        json_object_set_new(o, "store", json_string(c->store_url));
        json_object_set_new(o, "kind", json_string(cb_store_get_info(c->store)->name));
        json_object_set_new(o, "ok", json_true());
        out_json(o);
    } else {
        printf("store %s (%s): ok\n", c->store_url, cb_store_get_info(c->store)->name);
    }
    return CLI_EXIT_OK;
}
