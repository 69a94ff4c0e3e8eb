/* SPDX-License-Identifier: Apache-2.0 */
/* ids.c: UUIDs, timestamps and Cinder's object-name prefixes. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>

#include "ids.h"
#include "../util/util.h"

static int ids_is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int cb__uuid_valid(const char *s)
{
    if (s == NULL || strlen(s) != CB_UUID_LEN)
        return 0;
    for (int i = 0; i < CB_UUID_LEN; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !ids_is_hex(s[i]))
            return 0;
    }
    return 1;
}

static void ids_format(char out[CB_UUID_LEN + 1], const unsigned char b[16])
{
    snprintf(out, CB_UUID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

int cb__uuid_random(char out[CB_UUID_LEN + 1], cb_error *err)
{
    unsigned char b[16];
    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
        return cb_error_set(err, CB_EIO, "no random bytes for a UUID");
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    ids_format(out, b);
    return 0;
}

void cb__uuid_from_name(char out[CB_UUID_LEN + 1], const char *name)
{
    /* cinderblock's own namespace (a fixed random UUID): 5d8c2a1e-3b7f-4c62-9a0e-6f1d4b8e2c97 */
    static const unsigned char ns[16] = { 0x5d, 0x8c, 0x2a, 0x1e, 0x3b, 0x7f, 0x4c, 0x62,
                                          0x9a, 0x0e, 0x6f, 0x1d, 0x4b, 0x8e, 0x2c, 0x97 };
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    /* RFC 4122 version 5: SHA-1 over namespace and name */
    EVP_DigestInit_ex(ctx, EVP_sha1(), NULL);
    EVP_DigestUpdate(ctx, ns, sizeof(ns));
    EVP_DigestUpdate(ctx, name, strlen(name));
    EVP_DigestFinal_ex(ctx, digest, &len);
    EVP_MD_CTX_free(ctx);
    digest[6] = (unsigned char)((digest[6] & 0x0f) | 0x50);
    digest[8] = (unsigned char)((digest[8] & 0x3f) | 0x80);
    ids_format(out, digest);
}

int cb__time_parse(const char *s, cb_time *out)
{
    struct tm tm = { 0 };
    char sep;
    int n = 0;
    long usec = 0;
    if (sscanf(s, "%4d-%2d-%2d%c%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &sep,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 7 ||
        (sep != 'T' && sep != ' '))
        return -1;
    const char *p = s + n;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 6)
                usec = usec * 10 + (*p - '0');
        for (; digits < 6; digits++)
            usec *= 10;
    }
    if (*p != '\0' && strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    out->sec = (int64_t)timegm(&tm);
    out->usec = usec;
    return 0;
}

int cb__time_now(cb_time *out, int64_t now, long now_usec, cb_error *err)
{
    const char *fake = getenv("CINDERBLOCK_NOW");
    if (now != 0) {
        out->sec = now;
        out->usec = now_usec;
        return 0;
    }
    if (fake != NULL && fake[0] != '\0') {
        if (cb__time_parse(fake, out) < 0)
            return cb_error_set(err, CB_EINVAL,
                                "CINDERBLOCK_NOW='%s' is not YYYY-mm-ddTHH:MM:SS[.ffffff]", fake);
        return 0;
    }
    struct timeval tv;
    gettimeofday(&tv, NULL);
    out->sec = tv.tv_sec;
    out->usec = tv.tv_usec;
    return 0;
}

static void ids_tm(cb_time t, struct tm *tm)
{
    time_t s = (time_t)t.sec;
    gmtime_r(&s, tm);
}

void cb__time_prefix(char out[15], cb_time t)
{
    struct tm tm;
    ids_tm(t, &tm);
    strftime(out, 15, "%Y%m%d%H%M%S", &tm);
}

void cb__time_created_at(char out[40], cb_time t)
{
    struct tm tm;
    char base[24];
    ids_tm(t, &tm);
    strftime(base, sizeof(base), "%Y-%m-%d %H:%M:%S", &tm);
    if (t.usec != 0)
        snprintf(out, 40, "%s.%06ld+00:00", base, t.usec);
    else
        snprintf(out, 40, "%s+00:00", base);
}

void cb__time_record(char out[24], cb_time t)
{
    struct tm tm;
    ids_tm(t, &tm);
    strftime(out, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

char *cb__prefix_make(int flat,
                      const char *volume_id,
                      const char *ts,
                      const char *az,
                      const char *backup_id,
                      cb_error *err)
{
    if (flat)
        return cb__asprintf(err, "volume_%s_%s_backup_%s", volume_id, ts, backup_id);
    return cb__asprintf(err, "volume_%s/%s/az_%s_backup_%s", volume_id, ts, az, backup_id);
}

static int ids_digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

int cb__prefix_parse(const char *prefix, cb_prefix_parts *out)
{
    size_t len = strlen(prefix);
    const char *tail = "_backup_";
    /* volume_ + uuid + sep + 14 digits + ... + _backup_ + uuid */
    if (len < 7 + CB_UUID_LEN + 1 + 14 + 8 + CB_UUID_LEN || strncmp(prefix, "volume_", 7) != 0)
        return 0;
    const char *vid = prefix + 7;
    const char *ts = vid + CB_UUID_LEN + 1;
    const char *bid = prefix + len - CB_UUID_LEN;
    char sep = vid[CB_UUID_LEN];
    if ((sep != '_' && sep != '/') || strncmp(bid - 8, tail, 8) != 0 || !ids_digits(ts, 14))
        return 0;
    memcpy(out->volume_id, vid, CB_UUID_LEN);
    out->volume_id[CB_UUID_LEN] = '\0';
    memcpy(out->backup_id, bid, CB_UUID_LEN);
    out->backup_id[CB_UUID_LEN] = '\0';
    memcpy(out->ts, ts, 14);
    out->ts[14] = '\0';
    if (!cb__uuid_valid(out->volume_id) || !cb__uuid_valid(out->backup_id))
        return 0;
    /* flat: "<ts>_backup_"; object stores: "<ts>/az_<az>_backup_" */
    if (sep == '_')
        return ts + 14 == bid - 8;
    return ts[14] == '/' && strncmp(ts + 15, "az_", 3) == 0;
}

int cb__prefix_parse_as(const char *prefix, int flat, cb_prefix_parts *out)
{
    return prefix != NULL && cb__prefix_parse(prefix, out) &&
           (prefix[7 + CB_UUID_LEN] == '_') == (flat != 0);
}

void cb__found_dispose(cb_found *f)
{
    free(f->container);
    free(f->prefix);
    f->container = f->prefix = NULL;
}
