/* SPDX-License-Identifier: Apache-2.0 */
/* image.c: the public read-only image (cinderblock/image.h): a chain's volume read through
 * the chain reader and the cache of verified segments. */
#include <stdlib.h>
#include <string.h>

#include "image_impl.h"
#include "../util/util.h"

#define IMG_THREADS 16 /* readers expected at once by default (nbdkit's default threads) */

static int img_check_opts(const cb_image_opts *o, cb_error *err)
{
    if (o->version < 1 || o->version > CB_IMAGE_OPTS_VERSION)
        return cb_error_set(err, CB_EINVAL, "cb_image_opts version %u is not 1 to %d", o->version,
                            CB_IMAGE_OPTS_VERSION);
    if (o->threads < 0 || o->threads > 4096)
        return cb_error_set(err, CB_EINVAL, "threads %d is not 0 to 4096", o->threads);
    return 0;
}

/* Everything but the lock: the chain, its plan, the hash list, the reader, the cache. */
static int img_load(cb_image *img, const cb_image_opts *o, cb_error *err)
{
    int rc;
    if ((rc = cb__chain_load(img->store, img->backup_id, &img->chain, err)) < 0 ||
        (rc = cb__plan_build(&img->chain, &img->plan, err)) < 0)
        return rc;
    img->size = img->chain.size;
    if ((rc = cb__img_shas_load(&img->shas, img->store, &img->chain, err)) < 0)
        return rc;
    int threads = o->threads > 0 ? o->threads : IMG_THREADS;
    if ((rc = cb__chainread_new(img->store, &img->plan, img->size, threads, NULL, NULL, &img->rd,
                                err)) < 0)
        return rc;
    uint64_t bytes = o->cache_bytes > 0 ? o->cache_bytes : CB_IMAGE_CACHE_DEFAULT;
    return cb__img_cache_init(&img->cache, bytes, img->shas.blk, err);
}

CB_EXTERN int cb_image_open(cb_store *store,
                            const char *backup_id,
                            const cb_image_opts *opts,
                            cb_image **out,
                            cb_error *err)
{
    cb_image_opts def = CB_IMAGE_OPTS_INIT;
    const cb_image_opts *o = opts != NULL ? opts : &def;
    int rc;
    *out = NULL;
    if (store == NULL || backup_id == NULL)
        return cb_error_set(err, CB_EINVAL, "cb_image_open: no store or backup id");
    if ((rc = img_check_opts(o, err)) < 0)
        return rc;
    cb_image *img = cb__calloc(1, sizeof(*img), err);
    if (img == NULL)
        return CB_ENOMEM;
    img->store = store;
    if ((img->backup_id = cb__strdup(backup_id, err)) == NULL) {
        rc = CB_ENOMEM;
        goto done;
    }
    /* the lock first: nothing may delete the chain between its loading and its reading */
    if (o->lock && (rc = cb__lock_take(store, 0, "map", backup_id, &img->lock, err)) < 0)
        goto done;
    rc = img_load(img, o, err);
done:
    if (rc < 0) {
        cb_image_close(img);
        return rc;
    }
    *out = img;
    return 0;
}

CB_EXTERN uint64_t cb_image_size(const cb_image *img)
{
    return img->size;
}

CB_EXTERN uint32_t cb_image_sha_block(const cb_image *img)
{
    return img->shas.blk;
}

CB_EXTERN const char *cb_image_backup_id(const cb_image *img)
{
    return img->backup_id;
}

CB_EXTERN int cb_image_pread(cb_image *img, void *buf, size_t len, uint64_t off, cb_error *err)
{
    if (off > img->size || len > img->size - off)
        return cb_error_set(
            err, CB_EINVAL, "backup %s: bytes %llu+%zu lie beyond its volume of %llu bytes",
            img->backup_id, (unsigned long long)off, len, (unsigned long long)img->size);
    int rc = cb__lock_held(img->lock, err); /* a lost lock: the chain may be going */
    if (rc < 0)
        return rc;
    return cb__img_cache_read(img, buf, len, off, err);
}

CB_EXTERN int cb_image_extent(const cb_image *img,
                              uint64_t off,
                              uint64_t len,
                              uint64_t *len_out,
                              int *zero_out,
                              cb_error *err)
{
    if (off >= img->size)
        return cb_error_set(err, CB_EINVAL,
                            "backup %s: byte %llu lies beyond its volume of %llu "
                            "bytes",
                            img->backup_id, (unsigned long long)off, (unsigned long long)img->size);
    if (len > img->size - off)
        len = img->size - off;
    uint32_t blk = img->shas.blk;
    uint64_t i = off / blk, end = off + len;
    int zero = cb__img_shas_is_zero(&img->shas, i);
    uint64_t at = (i + 1) * blk;
    while (at < end && cb__img_shas_is_zero(&img->shas, at / blk) == zero)
        at += blk;
    *len_out = (at < end ? at : end) - off;
    *zero_out = zero;
    return 0;
}

CB_EXTERN int cb_image_is_zero(const cb_image *img, uint64_t off, uint64_t len)
{
    uint64_t run = 0;
    int zero = 0;
    if (len == 0 || cb_image_extent(img, off, len, &run, &zero, NULL) < 0)
        return 0;
    return zero && run == len;
}

CB_EXTERN void cb_image_get_stats(const cb_image *img, cb_image_stats *out, size_t size)
{
    cb_image_stats s;
    img_cache *c = (img_cache *)&img->cache; /* its lock is not part of the image's value */
    memset(&s, 0, sizeof(s));
    s.objects_opened = cb__chainread_opens(img->rd);
    pthread_mutex_lock(&c->lock);
    s.segments_filled = c->filled;
    s.cache_hits = c->hits;
    s.bad_blocks = c->bad_blocks;
    s.cache_bytes = c->bytes;
    pthread_mutex_unlock(&c->lock);
    memcpy(out, &s, size < sizeof(s) ? size : sizeof(s));
}

CB_EXTERN void cb_image_close(cb_image *img)
{
    if (img == NULL)
        return;
    cb__img_cache_dispose(&img->cache);
    cb__chainread_free(img->rd);
    cb__img_shas_dispose(&img->shas);
    cb__plan_dispose(&img->plan);
    cb__chain_dispose(&img->chain);
    cb__lock_release(img->lock);
    free(img->backup_id);
    free(img);
}
