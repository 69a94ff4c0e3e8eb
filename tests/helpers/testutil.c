/* SPDX-License-Identifier: Apache-2.0 */
/* testutil.c: helpers shared by the C test programs. */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>

#include "../tests/helpers/testutil.h"

void tu_fill_random(void *buf, size_t len, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
    unsigned char *p = buf;
    while (len > 0) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t n = len < 8 ? len : 8;
        memcpy(p, &x, n);
        p += n;
        len -= n;
    }
}

char *tu_mkdtemp(const char *tag)
{
    const char *tmp = getenv("TMPDIR");
    char *path = NULL;
    if (asprintf(&path, "%s/cb-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", tag) < 0)
        return NULL;
    if (mkdtemp(path) == NULL) {
        free(path);
        return NULL;
    }
    return path;
}

static int tu_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void tu_rmtree(const char *path)
{
    if (path != NULL)
        nftw(path, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void tu_random_hex(char *out, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[32];
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
        memset(raw, 7, sizeof(raw));
    for (size_t i = 0; i < n && i < 64; i++)
        out[i] = hex[(raw[i / 2] >> ((i & 1) * 4)) & 15];
    out[n < 64 ? n : 64] = '\0';
}

void tu_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

unsigned char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*len + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
}

int tu_file_equals(const char *path, const void *want, size_t len)
{
    size_t n = 0;
    unsigned char *got = tu_read_file(path, &n);
    int same = got != NULL && n == len && memcmp(got, want, len) == 0;
    free(got);
    return same;
}

int tu_backup(cb_store *store,
              const char *vol,
              const void *data,
              size_t len,
              const cb_backup_opts *opts,
              char id_out[40],
              cb_error *err)
{
    cb_backup_info *info = NULL;
    tu_write_file(vol, data, len);
    int rc = cb_backup(store, vol, opts, &info, err);
    if (rc == 0)
        snprintf(id_out, 40, "%s", info->backup_id);
    cb_backup_info_free(info);
    return rc;
}
