/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nbdkit-cinderblock.c: the nbdkit plugin `nbdkit cinderblock store=URL backup=ID`: a backup,
 * at any point of its chain, served read-only over NBD through the public image API
 * (cinderblock/image.h): objects fetched on demand, every byte verified against the
 * _sha256file (a damaged object is EIO, logged with its name), all-zero sha blocks reported
 * as holes from the list alone. One image serves every connection (can_multi_conn: the
 * data never changes), from nbdkit's threads at once (PARALLEL).
 *
 * nbdkit's plugin interface is one set of callbacks per process, so the configuration and
 * the open image are the process's (nbdkit plugins hold such state in file-scope variables).
 */
#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <cinderblock/cb.h>

#define THREAD_MODEL NBDKIT_THREAD_MODEL_PARALLEL

/* -D cinderblock.stats=1: log the image's counters (objects fetched...) as connections end */
NBDKIT_DLL_PUBLIC int cinderblock_debug_stats = 0;

static const char *cbk_store_url; /* store=, else $CINDERBLOCK_STORE */
static const char *cbk_backup;    /* backup= as given: a whole id or a unique prefix */
static int64_t cbk_cache;         /* cache=: bytes (0: the library's default) */
static int cbk_lock = 1;          /* lock=: hold a shared lock while serving */
static cb_store *cbk_st;          /* opened in get_ready */
static char *cbk_id;              /* the whole id */
static cb_image *cbk_img;         /* opened in after_fork (the lock's thread needs it) */

static int cbk_config(const char *key, const char *value)
{
    if (strcmp(key, "store") == 0)
        cbk_store_url = value;
    else if (strcmp(key, "backup") == 0)
        cbk_backup = value;
    else if (strcmp(key, "cache") == 0) {
        if ((cbk_cache = nbdkit_parse_size(value)) < 0)
            return -1;
    } else if (strcmp(key, "lock") == 0) {
        if ((cbk_lock = nbdkit_parse_bool(value)) < 0)
            return -1;
    } else {
        nbdkit_error("unknown parameter '%s' (see nbdkit cinderblock --help)", key);
        return -1;
    }
    return 0;
}

static int cbk_config_complete(void)
{
    if (cbk_store_url == NULL)
        cbk_store_url = getenv("CINDERBLOCK_STORE");
    if (cbk_store_url == NULL || cbk_store_url[0] == '\0') {
        nbdkit_error("no store: give store=URL or set CINDERBLOCK_STORE");
        return -1;
    }
    if (cbk_backup == NULL || cbk_backup[0] == '\0') {
        nbdkit_error("no backup: give backup=ID");
        return -1;
    }
    return 0;
}

#define cbk_config_help                                                                            \
    "store=URL      the store, as cinderblock --store takes it (default $CINDERBLOCK_STORE)\n"     \
    "backup=ID      (required) the backup: a whole id or a unique prefix (8 characters)\n"         \
    "cache=SIZE     decoded data kept in memory (default 256M)\n"                                  \
    "lock=BOOL      hold a shared lock in the store while serving (default true)"

static int cbk_open_image(int lock, cb_image **out)
{
    cb_image_opts o = CB_IMAGE_OPTS_INIT;
    cb_error err = { 0 };
    o.cache_bytes = (uint64_t)cbk_cache;
    o.threads = 16;
    o.lock = lock;
    if (cb_image_open(cbk_st, cbk_id, &o, out, &err) < 0) {
        nbdkit_error("%s", err.msg); /* names the backup */
        return -1;
    }
    return 0;
}

/* Before nbdkit forks into the background, so that a bad URL or an unknown backup is an
 * error of the command that started it: the store, the id and the image, checked. */
static int cbk_get_ready(void)
{
    cb_store_opts so = CB_STORE_OPTS_INIT;
    cb_error err = { 0 };
    cb_image *probe = NULL;
    if (cb_store_open(&cbk_st, cbk_store_url, &so, &err) < 0 || cb_store_exists(cbk_st, &err) < 0) {
        nbdkit_error("store %s: %s", cbk_store_url, err.msg);
        return -1;
    }
    if (cb_backup_resolve_id(cbk_st, cbk_backup, &cbk_id, &err) < 0) {
        nbdkit_error("backup %s: %s", cbk_backup, err.msg);
        return -1;
    }
    if (cbk_open_image(0, &probe) < 0)
        return -1;
    cb_image_close(probe);
    return 0;
}

/* The image that serves, with its lock, whose refresh thread must be this process's. */
static int cbk_after_fork(void)
{
    return cbk_open_image(cbk_lock, &cbk_img);
}

static void cbk_unload(void)
{
    cb_image_close(cbk_img);
    cb_store_free(cbk_st);
    free(cbk_id);
}

static void *cbk_open(int readonly)
{
    (void)readonly; /* always read-only: there is no .pwrite */
    return cbk_img;
}

static void cbk_close(void *handle)
{
    cb_image_stats s;
    if (!cinderblock_debug_stats)
        return;
    cb_image_get_stats(handle, &s, sizeof(s));
    nbdkit_debug("cinderblock stats: objects_opened=%" PRIu64 " segments_filled=%" PRIu64
                 " cache_hits=%" PRIu64 " bad_blocks=%" PRIu64 " cache_bytes=%" PRIu64,
                 s.objects_opened, s.segments_filled, s.cache_hits, s.bad_blocks, s.cache_bytes);
}

static int64_t cbk_get_size(void *handle)
{
    return (int64_t)cb_image_size(handle);
}

static int cbk_can_multi_conn(void *handle)
{
    (void)handle;
    return 1;
}

static int cbk_block_size(void *handle, uint32_t *minimum, uint32_t *preferred, uint32_t *maximum)
{
    uint32_t blk = cb_image_sha_block(handle);
    *minimum = 1;
    /* a sha block is what one verification covers; NBD wants a power of two */
    *preferred = blk >= 512 && blk <= (32u << 20) && (blk & (blk - 1)) == 0 ? blk : 4096;
    *maximum = 0xffffffff;
    return 0;
}

static int cbk_pread(void *handle, void *buf, uint32_t count, uint64_t offset, uint32_t flags)
{
    cb_error err = { 0 };
    (void)flags;
    if (cb_image_pread(handle, buf, count, offset, &err) < 0) {
        nbdkit_error("%s", err.msg); /* names the object and the backups */
        nbdkit_set_error(err.code == CB_ENOMEM ? ENOMEM : EIO);
        return -1;
    }
    return 0;
}

static int cbk_extents(
    void *handle, uint32_t count, uint64_t offset, uint32_t flags, struct nbdkit_extents *ex)
{
    uint64_t end = offset + count;
    while (offset < end) {
        uint64_t run = 0;
        int zero = 0;
        cb_error err = { 0 };
        if (cb_image_extent(handle, offset, end - offset, &run, &zero, &err) < 0) {
            nbdkit_error("%s", err.msg);
            nbdkit_set_error(EINVAL);
            return -1;
        }
        if (nbdkit_add_extent(ex, offset, run, zero ? NBDKIT_EXTENT_HOLE | NBDKIT_EXTENT_ZERO : 0) <
            0)
            return -1;
        offset += run;
        if (flags & NBDKIT_FLAG_REQ_ONE)
            break;
    }
    return 0;
}

static struct nbdkit_plugin plugin = {
    .name = "cinderblock",
    .longname = "cinderblock: a backup served read-only",
    .version = CBK_VERSION,
    .description = "Serves a cinderblock backup (Cinder's chunked format) read-only, verified.",
    .config = cbk_config,
    .config_complete = cbk_config_complete,
    .config_help = cbk_config_help,
    .magic_config_key = "backup",
    .get_ready = cbk_get_ready,
    .after_fork = cbk_after_fork,
    .unload = cbk_unload,
    .open = cbk_open,
    .close = cbk_close,
    .get_size = cbk_get_size,
    .can_multi_conn = cbk_can_multi_conn,
    .block_size = cbk_block_size,
    .pread = cbk_pread,
    .extents = cbk_extents,
};

NBDKIT_REGISTER_PLUGIN(plugin)
