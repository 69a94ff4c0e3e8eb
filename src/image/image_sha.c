/* SPDX-License-Identifier: Apache-2.0 */
/* image_sha.c: the image's hash list, loaded whole, with its all-zero blocks marked. */
#include <stdlib.h>
#include <string.h>

#include "image_impl.h"
#include "../hash/hash.h"
#include "../util/util.h"

/* Hash of `len` zero bytes: what an all-zero block of that length is listed as. */
static int img_zero_hash(cb_digest *d, uint64_t len, unsigned char out[32], cb_error *err)
{
    unsigned char *z = cb__calloc(1, len > 0 ? (size_t)len : 1, err);
    if (z == NULL)
        return CB_ENOMEM;
    cb__digest_sha256(d, z, (size_t)len, out);
    free(z);
    return 0;
}

/* Mark the blocks whose hash is that of zeros of their length (the last may be short). */
static int img_mark_zeros(img_shas *s, uint64_t size, cb_error *err)
{
    cb_digest d;
    unsigned char full[32], last[32];
    uint64_t tail = size - (s->n - 1) * s->blk;
    int rc = cb__digest_init(&d, s->blk, err);
    if (rc < 0)
        return rc;
    memcpy(full, d.zero_sha, 32);
    rc = img_zero_hash(&d, tail, last, err);
    cb__digest_dispose(&d);
    if (rc < 0)
        return rc;
    if ((s->zero = cb__calloc(1, (size_t)(s->n + 7) / 8, err)) == NULL)
        return CB_ENOMEM;
    for (uint64_t i = 0; i < s->n; i++)
        if (memcmp(s->hashes + i * 32, i + 1 == s->n ? last : full, 32) == 0)
            s->zero[i / 8] |= (unsigned char)(1u << (i % 8));
    return 0;
}

/* Read every digest; the list must describe exactly the volume's blocks. */
static int img_read_list(img_shas *s, cb_hashes *ps, const cb_chain *chain, cb_error *err)
{
    const char *id = chain->layers[0].where.parts.backup_id;
    int have = 0, rc;
    if ((s->hashes = cb__malloc((size_t)s->n * 32, err)) == NULL)
        return CB_ENOMEM;
    for (uint64_t i = 0; i < s->n; i++) {
        if ((rc = cb__hashes_get(ps, i, s->hashes + i * 32, &have, err)) < 0)
            return rc;
        if (!have)
            return cb_error_set(err, CB_ECORRUPT,
                                "backup %s is damaged: its '%s' lists %llu sha blocks, its "
                                "volume of %llu bytes has %llu",
                                id, ps->name, (unsigned long long)i,
                                (unsigned long long)chain->size, (unsigned long long)s->n);
    }
    unsigned char extra[32];
    if ((rc = cb__hashes_get(ps, s->n, extra, &have, err)) < 0)
        return rc;
    if (have)
        return cb_error_set(err, CB_ECORRUPT,
                            "backup %s is damaged: its '%s' lists more than the %llu sha blocks "
                            "of its volume of %llu bytes",
                            id, ps->name, (unsigned long long)s->n,
                            (unsigned long long)chain->size);
    return 0;
}

int cb__img_shas_load(img_shas *s, cb_store *store, const cb_chain *chain, cb_error *err)
{
    cb_hashes ps;
    uint64_t blk = 0;
    cb_error herr = { 0 };
    memset(s, 0, sizeof(*s));
    memset(&ps, 0, sizeof(ps));
    const char *id = chain->layers[0].where.parts.backup_id;
    int rc = cb__hashes_open(&ps, store, &chain->layers[0].where, &blk, &herr);
    if (rc == 0 && (blk == 0 || blk > (1u << 30)))
        rc = cb_error_set(&herr, CB_ECORRUPT, "its chunk_size %llu is not a sha block size",
                          (unsigned long long)blk);
    if (rc < 0) {
        rc = cb_error_set(err, rc == CB_ENOTFOUND ? CB_ECORRUPT : rc,
                          "backup %s cannot be served: its _sha256file, against which every "
                          "byte is checked, cannot be used: %s",
                          id, herr.msg);
        goto done;
    }
    s->blk = (uint32_t)blk;
    s->n = (chain->size + blk - 1) / blk;
    if (s->n > 0 && ((rc = img_read_list(s, &ps, chain, err)) < 0 ||
                     (rc = img_mark_zeros(s, chain->size, err)) < 0))
        goto done;
done:
    cb__hashes_close(&ps);
    if (rc < 0)
        cb__img_shas_dispose(s);
    return rc;
}

void cb__img_shas_dispose(img_shas *s)
{
    free(s->hashes);
    free(s->zero);
    s->hashes = s->zero = NULL;
}

int cb__img_shas_is_zero(const img_shas *s, uint64_t i)
{
    return (s->zero[i / 8] >> (i % 8)) & 1;
}

int cb__img_shas_check(const img_shas *s,
                       const unsigned char *data,
                       uint64_t off,
                       uint64_t len,
                       unsigned char *bad,
                       uint64_t *n_bad_out,
                       cb_error *err)
{
    cb_digest d;
    uint64_t first = off / s->blk, nb = (len + s->blk - 1) / s->blk, n_bad = 0;
    uint64_t full = len / s->blk; /* whole blocks; a short last one is hashed alone */
    unsigned char *got = cb__malloc((size_t)nb * 32, err);
    if (got == NULL)
        return CB_ENOMEM;
    int rc = cb__digest_init(&d, s->blk, err);
    if (rc < 0) {
        free(got);
        return rc;
    }
    cb__digest_sha256_blocks(&d, data, s->blk, (size_t)full, got);
    if (full < nb)
        cb__digest_sha256(&d, data + full * s->blk, (size_t)(len - full * s->blk), got + full * 32);
    cb__digest_dispose(&d);
    for (uint64_t k = 0; k < nb; k++) {
        bad[k] = memcmp(got + k * 32, s->hashes + (first + k) * 32, 32) != 0;
        n_bad += bad[k];
    }
    free(got);
    *n_bad_out = n_bad;
    return 0;
}

int cb__img_shas_all_zero(const img_shas *s, uint64_t off, uint64_t len)
{
    for (uint64_t i = off / s->blk; len > 0 && i * s->blk < off + len; i++)
        if (i >= s->n || !cb__img_shas_is_zero(s, i))
            return 0;
    return len > 0;
}
