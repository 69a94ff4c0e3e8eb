/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_init.c: `cinderblock init`: create a store and mark it (cb_store_init). */
#include <string.h>

#include "cli.h"
#include "help_text.h"
#include "output.h"

#define init_usage cli_help_init /* docs/cinderblock.1.md, its ```help block */

static const char *const init_said[] = {
    [CB_STORE_INIT_CREATED] = "created",
    [CB_STORE_INIT_MARKED] = "marked",
    [CB_STORE_INIT_EXISTED] = "existed",
};

int cmd_init(cli *c, int argc, char **argv)
{
    cb_error err = { 0 };
    cb_store_init_state state;
    int first, done, rc;

    if ((rc = cli_parse(c, argc, argv, NULL, NULL, NULL, NULL, init_usage, &first, &done)) != 0 ||
        done)
        return rc;
    if (first != argc)
        return cli_usage_error(c, init_usage, "init: unexpected argument '%s'", argv[first]);
    if ((rc = cli_open_store(c)) != 0)
        return rc;
    if (cb_store_init(c->store, 0, &state, &err) < 0)
        return cli_fail(c, &err);
    if (c->json) {
        json_t *o = json_object();
        json_object_set_new(o, "store", json_string(c->store_url));
        json_object_set_new(o, "kind", json_string(cb_store_get_info(c->store)->name));
        json_object_set_new(o, "state", json_string(init_said[state]));
        json_object_set_new(o, "marker", json_string(CB_STORE_MARKER));
        out_json(o);
    } else if (state == CB_STORE_INIT_EXISTED) {
        cli_info(c, "store %s already is a cinderblock store: nothing to do\n", c->store_url);
    } else {
        cli_info(c, "%s cinderblock store %s\n",
                 state == CB_STORE_INIT_CREATED ? "created" : "initialized existing", c->store_url);
    }
    return CLI_EXIT_OK;
}
