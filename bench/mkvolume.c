/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mkvolume.c: cb-mkvolume, the benchmark's synthetic "VM disk image".
 *
 *   cb-mkvolume [--size SIZE] [--seed N] [--map FILE] OUT
 *   cb-mkvolume --change [--percent P] [--contig SIZE] [--seed N] [--map FILE] FILE
 *
 * Create: OUT is a shuffled sequence of regions of 64 KiB .. 64 MiB (log-uniform, whole
 * 64 KiB units, at most 1/16 of the volume) whose classes make up, by bytes, about
 *   25 % all-zero        unallocated space; real zeros, the file is not sparse
 *   35 % random          encrypted or already-compressed files
 *   20 % text            word salad, about 3:1 with zlib level 6
 *   20 % binary records  structured, repetitive records, about 3:1 with zlib level 6
 * The same --seed and --size give the same bytes on every machine.
 *
 * Change ("next day"): rewrites P % (default 1) of FILE's bytes in place: one contiguous
 * region (default and at most half of the change, in whole MiB) plus distinct, 4 KiB-aligned
 * 4 KiB writes outside it for the rest. Which bytes change depends only on the file's size
 * and --seed, so a copy of the same volume always gets the same "next day".
 *
 * A summary (and the time it took) goes to stderr; --map FILE lists what went where, one
 * "offset length class" line each, for checking the mix.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KIB ((uint64_t)1024)
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)
#define UNIT (64 * KIB)       /* region granularity */
#define MAX_REGION (64 * MIB) /* also the size of the region buffer */
#define WRITE_SIZE (8 * MIB)  /* large writes keep the page cache and the kernel happy */
#define PAGE (4 * KIB)
#define SHA_BLOCK (32 * KIB) /* Cinder's default change-tracking block, for the summary */

enum cls { ZERO, RANDOM, TEXT, BINARY, NCLASS };
static const char *const class_name[NCLASS] = { "zero", "random", "text", "binary" };
static const double class_share[NCLASS] = { 0.25, 0.35, 0.20, 0.20 };

/* ---- PRNG: xoshiro256**, seeded through splitmix64. Fast enough that random data
 * costs less than writing it, and identical on every platform (unlike rand()). */
struct rng {
    uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Independent streams for (seed, purpose, index), so that each region's content does not
 * depend on how the others were generated. */
static void rng_init(struct rng *r, uint64_t seed, uint64_t purpose, uint64_t index)
{
    uint64_t x = seed ^ (purpose * 0xd1b54a32d192ed03u) ^ (index * 0xabc98388fb8fac03u);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, n); the bias of the plain modulo is irrelevant for n far below 2^64. */
static inline uint64_t rng_below(struct rng *r, uint64_t n)
{
    return rng_next(r) % n;
}

static double rng_unit(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static void fill_random(struct rng *r, unsigned char *p, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v = rng_next(r);
        memcpy(p + i, &v, 8); /* byte order only matters for cross-endian reproducibility */
    }
    if (i < n) {
        uint64_t v = rng_next(r);
        memcpy(p + i, &v, n - i);
    }
}

/* ---- Text: words drawn from a Zipf-distributed vocabulary, with punctuation. The
 * vocabulary size and exponent set the entropy per word, hence the zlib ratio; they were
 * tuned for about 3:1 at level 6 (bench/check_mix.py measures it). */
#define VOCAB 6000
#define ZIPF_S 1.15
#define ZIPF_TABLE 65536 /* a uniform 16-bit draw picks the word rank */
#define MAX_WORD 14

struct text_model {
    char word[VOCAB][MAX_WORD + 1];
    unsigned char len[VOCAB];
    uint16_t rank[ZIPF_TABLE];
};

static void text_model_init(struct text_model *m, uint64_t seed)
{
    /* Letters with roughly English frequencies, so the Huffman stage sees skewed symbols. */
    static const char letters[] = "eeeeeeeeeeeetttttttttaaaaaaaaooooooooiiiiiiinnnnnnnssssss"
                                  "hhhhhhrrrrrrddddllllccccuuuummmwwwffggyyppbbvkjxqz";
    struct rng r;
    rng_init(&r, seed, 1, 0);
    for (int i = 0; i < VOCAB; i++) {
        /* short words are common: 1 + geometric-ish, capped */
        int n = 1 + (int)(-log(1.0 - rng_unit(&r)) * 4.5);
        if (n > MAX_WORD)
            n = MAX_WORD;
        for (int j = 0; j < n; j++)
            m->word[i][j] = letters[rng_below(&r, sizeof letters - 1)];
        m->word[i][n] = 0;
        m->len[i] = (unsigned char)n;
    }
    /* Cumulative Zipf weights, quantised into a lookup table: rank[u] for u uniform. */
    double total = 0;
    for (int i = 0; i < VOCAB; i++)
        total += 1.0 / pow(i + 1, ZIPF_S);
    double acc = 0;
    int w = 0;
    for (int u = 0; u < ZIPF_TABLE; u++) {
        double target = (u + 0.5) / ZIPF_TABLE * total;
        while (w < VOCAB - 1 && acc + 1.0 / pow(w + 1, ZIPF_S) < target)
            acc += 1.0 / pow(++w, ZIPF_S);
        m->rank[u] = (uint16_t)w;
    }
}

static void fill_text(const struct text_model *m, struct rng *r, unsigned char *p, size_t n)
{
    size_t i = 0;
    int sentence_start = 1;
    while (i < n) {
        uint64_t v = rng_next(r);
        const char *word = m->word[m->rank[v & 0xffff]];
        size_t len = m->len[m->rank[v & 0xffff]];
        unsigned sep = (unsigned)(v >> 16) & 63;
        char buf[MAX_WORD + 3];
        memcpy(buf, word, len);
        if (sentence_start && buf[0] >= 'a' && buf[0] <= 'z')
            buf[0] = (char)(buf[0] - 'a' + 'A');
        sentence_start = 0;
        /* separators: mostly a space; a comma, a full stop or a line break now and then */
        if (sep < 52) {
            buf[len++] = ' ';
        } else if (sep < 57) {
            buf[len++] = ',';
            buf[len++] = ' ';
        } else if (sep < 61) {
            buf[len++] = '.';
            buf[len++] = ' ';
            sentence_start = 1;
        } else {
            buf[len++] = '.';
            buf[len++] = '\n';
            sentence_start = 1;
        }
        if (len > n - i)
            len = n - i;
        memcpy(p + i, buf, len);
        i += len;
    }
}

/* ---- Binary: fixed 32-byte records as in a database file or a log of structs: a constant
 * tag, a sequence number, a slowly rising timestamp, a small type code, and a payload that is
 * mostly zero with some random bytes (those set the ratio, tuned for about 3:1). */
#define RECORD 32
#define PAYLOAD_NOISE 32 /* of 256: chance that a payload byte is random */

static void fill_binary(struct rng *r, unsigned char *p, size_t n)
{
    uint32_t tag = (uint32_t)rng_next(r);
    uint32_t seq = (uint32_t)rng_next(r);
    uint64_t stamp = rng_next(r) >> 24;
    for (size_t i = 0; i < n; i += RECORD) {
        unsigned char rec[RECORD];
        uint64_t v = rng_next(r);
        memset(rec, 0, sizeof rec);
        for (int j = 0; j < 4; j++) {
            rec[j] = (unsigned char)(tag >> (8 * j));
            rec[4 + j] = (unsigned char)(seq >> (8 * j));
        }
        seq++;
        stamp += v & 0x3ff;
        for (int j = 0; j < 8; j++)
            rec[8 + j] = (unsigned char)(stamp >> (8 * j));
        rec[16] = (unsigned char)((v >> 10) & 7);
        rec[17] = (unsigned char)((v >> 13) & 1);
        uint64_t noise = 0;
        for (int j = 20; j < RECORD; j++) {
            if ((j - 20) % 8 == 0)
                noise = rng_next(r); /* one byte of chance per payload byte */
            if ((noise & 0xff) < PAYLOAD_NOISE)
                rec[j] = (unsigned char)rng_next(r);
            noise >>= 8;
        }
        size_t len = n - i < RECORD ? n - i : RECORD;
        memcpy(p + i, rec, len);
    }
}

static void fill(enum cls c, const struct text_model *m, struct rng *r, unsigned char *p, size_t n)
{
    switch (c) {
    case ZERO:
        memset(p, 0, n);
        break;
    case RANDOM:
        fill_random(r, p, n);
        break;
    case TEXT:
        fill_text(m, r, p, n);
        break;
    case BINARY:
        fill_binary(r, p, n);
        break;
    default:
        abort();
    }
}

/* ---- helpers */
static void die(const char *what, const char *path)
{
    fprintf(stderr, "cb-mkvolume: %s%s%s: %s\n", what, path ? " " : "", path ? path : "",
            strerror(errno));
    exit(1);
}

static void usage(void)
{
    fputs("Usage: cb-mkvolume [--size SIZE] [--seed N] [--map FILE] OUT\n"
          "       cb-mkvolume --change [--percent P] [--contig SIZE] [--seed N] [--map FILE] "
          "FILE\n"
          "SIZE: bytes with an optional K, M, G or T suffix (powers of 1024); default 2G.\n"
          "Create: 25 % zero, 35 % random, 40 % compressible regions of 64 KiB..64 MiB.\n"
          "Change: rewrite P % (default 1) of FILE: one contiguous region (default and at most\n"
          "half of the change) plus scattered 4 KiB writes.\n",
          stderr);
    exit(2);
}

static uint64_t parse_size(const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    uint64_t mult = 1;
    switch (*end) {
    case 'k':
    case 'K':
        mult = KIB;
        break;
    case 'm':
    case 'M':
        mult = MIB;
        break;
    case 'g':
    case 'G':
        mult = GIB;
        break;
    case 't':
    case 'T':
        mult = 1024 * GIB;
        break;
    case 0:
        break;
    default:
        usage();
    }
    if (*end && end[1] && strcmp(end + 1, "iB") != 0 && strcmp(end + 1, "B") != 0)
        usage();
    if (errno || end == s || v > UINT64_MAX / mult)
        usage();
    return v * mult;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void write_all(int fd, const unsigned char *p, size_t n, const char *path)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n < WRITE_SIZE ? n : WRITE_SIZE);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            die("cannot write", path);
        }
        p += w;
        n -= (size_t)w;
    }
}

static void pwrite_all(int fd, const unsigned char *p, size_t n, uint64_t off, const char *path)
{
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            die("cannot write", path);
        }
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) {
        fputs("cb-mkvolume: out of memory\n", stderr);
        exit(1);
    }
    return p;
}

/* ---- create */
struct region {
    uint64_t len;
    uint32_t id; /* index before the shuffle: names the region's PRNG stream */
    enum cls cls;
};

static int by_len_desc(const void *a, const void *b)
{
    const struct region *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? 1 : -1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int create(const char *out, uint64_t size, uint64_t seed, FILE *map)
{
    double t0 = now();
    if (size == 0 || size % UNIT) {
        fprintf(stderr, "cb-mkvolume: --size must be a positive multiple of 64 KiB\n");
        return 2;
    }
    uint64_t max_region = size / 16 > MAX_REGION ? MAX_REGION : size / 16;
    if (max_region < UNIT)
        max_region = UNIT;

    /* Region sizes: log-uniform over [64 KiB, max], whole units; the last one takes what
     * is left. */
    struct rng r;
    rng_init(&r, seed, 2, 0);
    size_t cap = 1024, n = 0;
    struct region *reg = xmalloc(cap * sizeof *reg);
    double lo = log((double)UNIT), hi = log((double)max_region);
    for (uint64_t left = size; left > 0; n++) {
        uint64_t len = (uint64_t)exp(lo + (hi - lo) * rng_unit(&r)) / UNIT * UNIT;
        if (len < UNIT)
            len = UNIT;
        if (len > left)
            len = left;
        if (n == cap)
            reg = realloc(reg, (cap *= 2) * sizeof *reg);
        if (!reg)
            die("out of memory", NULL);
        reg[n] = (struct region){ .len = len, .id = (uint32_t)n };
        left -= len;
    }

    /* Classes: largest region first, each to the class furthest below its share. That
     * lands within a small region of every target, whatever the draw. */
    qsort(reg, n, sizeof *reg, by_len_desc);
    double want[NCLASS];
    uint64_t got[NCLASS] = { 0 };
    for (int c = 0; c < NCLASS; c++)
        want[c] = class_share[c] * (double)size;
    for (size_t i = 0; i < n; i++) {
        int best = 0;
        for (int c = 1; c < NCLASS; c++)
            if (want[c] - (double)got[c] > want[best] - (double)got[best])
                best = c;
        reg[i].cls = (enum cls)best;
        got[best] += reg[i].len;
    }
    /* Fisher-Yates, so that classes and sizes are spread over the volume. */
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = rng_below(&r, i + 1);
        struct region t = reg[i];
        reg[i] = reg[j];
        reg[j] = t;
    }

    struct text_model *model = xmalloc(sizeof *model);
    text_model_init(model, seed);
    unsigned char *buf = xmalloc(MAX_REGION);
    /* Written to a temporary name and renamed: a cached volume is complete or absent. */
    size_t tlen = strlen(out) + 16;
    char *tmp = xmalloc(tlen);
    snprintf(tmp, tlen, "%s.tmp%ld", out, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        die("cannot create", tmp);
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        struct rng rr;
        rng_init(&rr, seed, 3, reg[i].id);
        fill(reg[i].cls, model, &rr, buf, reg[i].len);
        write_all(fd, buf, reg[i].len, tmp);
        if (map)
            fprintf(map, "%llu %llu %s\n", (unsigned long long)off, (unsigned long long)reg[i].len,
                    class_name[reg[i].cls]);
        off += reg[i].len;
    }
    if (close(fd) != 0)
        die("cannot write", tmp);
    if (rename(tmp, out) != 0)
        die("cannot rename to", out);

    fprintf(stderr, "cb-mkvolume: %s: %llu MiB, seed %llu, %zu regions:", out,
            (unsigned long long)(size / MIB), (unsigned long long)seed, n);
    for (int c = 0; c < NCLASS; c++)
        fprintf(stderr, " %s %.1f %%", class_name[c], 100.0 * (double)got[c] / (double)size);
    fprintf(stderr, "; %.2f s\n", now() - t0);
    free(buf);
    free(model);
    free(reg);
    free(tmp);
    return 0;
}

/* ---- change */
struct write_op {
    uint64_t off, len;
    enum cls cls;
};

static int by_off(const void *a, const void *b)
{
    const struct write_op *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

/* New content of a change: random or compressible, as a guest's writes would be. */
static enum cls change_class(struct rng *r)
{
    static const enum cls pick[4] = { RANDOM, RANDOM, TEXT, BINARY };
    return pick[rng_below(r, 4)];
}

static int
change(const char *path, double percent, uint64_t contig, int contig_set, uint64_t seed, FILE *map)
{
    double t0 = now();
    int fd = open(path, O_RDWR);
    if (fd < 0)
        die("cannot open", path);
    struct stat st;
    if (fstat(fd, &st) != 0)
        die("cannot stat", path);
    uint64_t size = (uint64_t)st.st_size / PAGE * PAGE, pages = size / PAGE;
    if (percent <= 0 || percent > 50 || pages < 2) {
        fprintf(stderr, "cb-mkvolume: --percent must be in (0, 50] on a volume of 8 KiB+\n");
        return 2;
    }
    uint64_t budget = (uint64_t)((double)size * percent / 100.0) / PAGE * PAGE;
    /* Default: half the budget in whole MiB (10 MiB for 1 % of 2 GiB), else in pages. */
    uint64_t half = budget / 2 / PAGE * PAGE;
    if (!contig_set)
        contig = half >= MIB ? half / MIB * MIB : half;
    if (contig > half)
        contig = half;
    contig = contig / PAGE * PAGE;
    uint64_t nscatter = (budget - contig) / PAGE;

    /* The "next day" depends on the size and the seed only, not on the file's bytes. */
    struct rng r;
    rng_init(&r, seed, 4, size);
    uint64_t contig_page = contig ? rng_below(&r, pages - contig / PAGE + 1) : 0;
    unsigned char *taken = calloc(pages / 8 + 1, 1);
    struct write_op *ops = xmalloc((nscatter + 1) * sizeof *ops);
    if (!taken)
        die("out of memory", NULL);
    for (uint64_t p = contig_page; p < contig_page + contig / PAGE; p++)
        taken[p / 8] |= (unsigned char)(1u << (p % 8));
    if (nscatter > pages - contig / PAGE)
        nscatter = pages - contig / PAGE;
    size_t nops = 0;
    if (contig)
        ops[nops++] = (struct write_op){ contig_page * PAGE, contig, change_class(&r) };
    for (uint64_t k = 0; k < nscatter;) {
        uint64_t p = rng_below(&r, pages);
        if (taken[p / 8] & (1u << (p % 8)))
            continue; /* distinct pages, none inside the contiguous region */
        taken[p / 8] |= (unsigned char)(1u << (p % 8));
        ops[nops++] = (struct write_op){ p * PAGE, PAGE, change_class(&r) };
        k++;
    }
    /* In offset order, so the writes sweep the file once. */
    qsort(ops, nops, sizeof *ops, by_off);

    struct text_model *model = xmalloc(sizeof *model);
    text_model_init(model, seed);
    unsigned char *buf = xmalloc(contig > PAGE ? contig : PAGE);
    uint64_t changed = 0, blocks = 0, last_block = UINT64_MAX;
    for (size_t i = 0; i < nops; i++) {
        struct rng rr;
        rng_init(&rr, seed, 5, ops[i].off);
        fill(ops[i].cls, model, &rr, buf, ops[i].len);
        pwrite_all(fd, buf, ops[i].len, ops[i].off, path);
        changed += ops[i].len;
        for (uint64_t b = ops[i].off / SHA_BLOCK; b <= (ops[i].off + ops[i].len - 1) / SHA_BLOCK;
             b++) {
            if (b != last_block)
                blocks++;
            last_block = b;
        }
        if (map)
            fprintf(map, "%llu %llu %s\n", (unsigned long long)ops[i].off,
                    (unsigned long long)ops[i].len, class_name[ops[i].cls]);
    }
    if (close(fd) != 0)
        die("cannot write", path);
    uint64_t nblocks = (size + SHA_BLOCK - 1) / SHA_BLOCK;
    fprintf(stderr,
            "cb-mkvolume: %s: changed %.2f %% (%llu bytes): %llu KiB contiguous at %llu "
            "+ %llu scattered 4 KiB writes; %.2f %% of 32 KiB blocks touched; %.2f s\n",
            path, 100.0 * (double)changed / (double)size, (unsigned long long)changed,
            (unsigned long long)(contig / KIB), (unsigned long long)(contig_page * PAGE),
            (unsigned long long)nscatter, 100.0 * (double)blocks / (double)nblocks, now() - t0);
    free(buf);
    free(model);
    free(ops);
    free(taken);
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t size = 2 * GIB, seed = 1, contig = 0;
    double percent = 1.0;
    int do_change = 0, contig_set = 0;
    const char *map_path = NULL, *path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (!strcmp(a, "--change")) {
            do_change = 1;
        } else if (!strcmp(a, "--size") && has_value) {
            size = parse_size(argv[++i]);
        } else if (!strcmp(a, "--seed") && has_value) {
            seed = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(a, "--percent") && has_value) {
            percent = strtod(argv[++i], NULL);
        } else if (!strcmp(a, "--contig") && has_value) {
            contig = parse_size(argv[++i]);
            contig_set = 1;
        } else if (!strcmp(a, "--map") && has_value) {
            map_path = argv[++i];
        } else if (a[0] == '-' || path) {
            usage();
        } else {
            path = a;
        }
    }
    if (!path)
        usage();
    FILE *map = NULL;
    if (map_path && !(map = fopen(map_path, "w")))
        die("cannot create", map_path);
    int rc = do_change ? change(path, percent, contig, contig_set, seed, map)
                       : create(path, size, seed, map);
    if (map && fclose(map) != 0)
        die("cannot write", map_path);
    return rc;
}
