/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugin_fixture.c: shared objects with a store plugin's file name that are not the plugin
 * their name promises, for test_registry.c: built with -DFIXTURE_NOENTRY it has no entry
 * point; otherwise it is the plugin of the scheme "elsewhere".
 */
#include "cinderblock/sys/store.h"

#ifdef FIXTURE_NOENTRY
int fixture_nothing(void);

int fixture_nothing(void)
{
    return 0;
}
#else
static int fixture_open(const char *location,
                        const cb_store_opts *opts,
                        const cb_store_ops **ops_out,
                        void **state_out,
                        cb_error *err)
{
    (void)location, (void)opts, (void)ops_out, (void)state_out, (void)err;
    return CB_ENOTSUPP; /* never reached: the scheme does not match the file name */
}

static const cb_store_plugin fixture = {
    CB_STORE_PLUGIN_INIT,
    .scheme = "elsewhere",
    .open = fixture_open,
};

const cb_store_plugin *cb_store_plugin_init(void)
{
    return &fixture;
}
#endif
