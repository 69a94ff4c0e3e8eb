/* SPDX-License-Identifier: Apache-2.0 */
/* test_posix.c: what the posix store promises beyond the conformance suite. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

typedef struct px {
    char *outer; /* a directory holding the root, to see that nothing escapes */
    char root[512];
    cb_store *store;
} px;

static int px_setup(void **state)
{
    px *p = calloc(1, sizeof(*p));
    cb_error err = { 0 };
    char url[600];
    p->outer = tu_mkdtemp("posix");
    snprintf(p->root, sizeof(p->root), "%s/root", p->outer);
    snprintf(url, sizeof(url), "posix:%s", p->root);
    if (cb_store_open(&p->store, url, NULL, &err) < 0)
        return -1;
    *state = p;
    return 0;
}

static int px_teardown(void **state)
{
    px *p = *state;
    cb_store_free(p->store);
    tu_rmtree(p->outer);
    free(p->outer);
    free(p);
    return 0;
}

/* Entries in a directory, "." and ".." excluded. */
static int px_count(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;
    if (d == NULL)
        return -1;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void test_posix__traversal_refused(void **state)
{
    px *p = *state;
    static const char *const bad[] = { "../x", "/etc", "a//b", "a/../../b", "..", "a/.", "a/" };
    cb_error err = { 0 };
    assert_cb_ok(cb_store_put_container(p->store, "ok", 0, &err), &err);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cb_writer *w = NULL;
        cb_error_clear(&err);
        assert_int_equal(cb_store_put_container(p->store, bad[i], 0, &err), CB_EINVAL);
        assert_cb_error(&err, CB_EINVAL, bad[i]);
        cb_error_clear(&err);
        assert_int_equal(cb_store_open_writer(p->store, bad[i], "obj", NULL, 0, &w, &err),
                         CB_EINVAL);
        assert_null(w);
        cb_error_clear(&err);
        /* object names are held to the same rule inside a container */
        assert_int_equal(cb_store_open_writer(p->store, "ok", bad[i], NULL, 0, &w, &err),
                         CB_EINVAL);
        assert_cb_error(&err, CB_EINVAL, bad[i]);
    }
    /* the outer directory holds only the root; the root only "ok" */
    assert_int_equal(px_count(p->outer), 1);
    assert_int_equal(px_count(p->root), 1);
}

static void test_posix__symlink_not_followed(void **state)
{
    px *p = *state;
    cb_error err = { 0 };
    char link[700];
    assert_cb_ok(cb_store_put_container(p->store, "c", 0, &err), &err);
    snprintf(link, sizeof(link), "%s/c/escape", p->root);
    assert_int_equal(symlink(p->outer, link), 0);
    cb_writer *w = NULL;
    assert_int_equal(cb_store_open_writer(p->store, "c/escape", "x", NULL, 0, &w, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "symbolic links");
    cb_error_clear(&err);
    assert_int_equal(cb_store_open_writer(p->store, "c", "escape/x", NULL, 0, &w, &err), CB_EINVAL);
    assert_int_equal(px_count(p->outer), 1);
}

static void test_posix__modes_and_layout(void **state)
{
    px *p = *state;
    cb_error err = { 0 };
    char path[800];
    struct stat sb;
    mode_t old = umask(022);
    assert_cb_ok(cb_store_put_container(p->store, "ab/cd/abcdef", 0, &err), &err);
    assert_cb_ok(cb_store_write_all(p->store, "ab/cd/abcdef", "volume_1-00001", "data", 4, &err),
                 &err);
    umask(old);
    snprintf(path, sizeof(path), "%s/ab/cd/abcdef", p->root);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0770);
    snprintf(path, sizeof(path), "%s/ab/cd/abcdef/volume_1-00001", p->root);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0660);
    assert_int_equal(sb.st_size, 4);
    /* the container directory holds the object only: no temporary left behind */
    snprintf(path, sizeof(path), "%s/ab/cd/abcdef", p->root);
    assert_int_equal(px_count(path), 1);
}

static void test_posix__temporary_name_never_matches_prefix(void **state)
{
    px *p = *state;
    cb_error err = { 0 };
    cb_writer *w = NULL;
    char dir[700];
    assert_cb_ok(cb_store_put_container(p->store, "t", 0, &err), &err);
    assert_cb_ok(cb_store_open_writer(p->store, "t", "volume_x_backup_y-00001", NULL, 0, &w, &err),
                 &err);
    assert_cb_ok(cb_writer_write(w, "abc", 3, &err), &err);
    /* while the writer is open the file has no name (O_TMPFILE) or one that Cinder's
     * listing never matches */
    snprintf(dir, sizeof(dir), "%s/t", p->root);
    DIR *d = opendir(dir);
    struct dirent *de;
    int seen = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' && (de->d_name[1] == '\0' || de->d_name[1] == '.'))
            continue;
        assert_int_not_equal(strncmp(de->d_name, "volume_", 7), 0);
        seen++;
    }
    closedir(d);
    assert_true(seen <= 1);
    assert_cb_ok(cb_writer_close(w, &err), &err);
    cb_writer_free(w);
    assert_int_equal(px_count(dir), 1);
}

/* Replacing an object goes through a temporary name: the old object stays whole until the
 * new one takes its place, and an abandoned replacement leaves it as it was. */
static void test_posix__replace_and_abandon(void **state)
{
    px *p = *state;
    cb_error err = { 0 };
    cb_writer *w = NULL;
    char dir[700], *data = NULL;
    size_t len;
    assert_cb_ok(cb_store_put_container(p->store, "r", 0, &err), &err);
    assert_cb_ok(cb_store_write_all(p->store, "r", "obj", "first", 5, &err), &err);
    assert_cb_ok(cb_store_write_all(p->store, "r", "obj", "second!", 7, &err), &err);
    assert_cb_ok(cb_store_open_writer(p->store, "r", "obj", NULL, 0, &w, &err), &err);
    assert_cb_ok(cb_writer_write(w, "third", 5, &err), &err);
    cb_writer_free(w);
    assert_cb_ok(cb_store_read_all(p->store, "r", "obj", 100, &data, &len, &err), &err);
    assert_int_equal(len, 7);
    assert_memory_equal(data, "second!", 7);
    free(data);
    snprintf(dir, sizeof(dir), "%s/r", p->root);
    assert_int_equal(px_count(dir), 1); /* no temporary left behind */
}

/* Putting an object in place fails (its directory went away meanwhile): the status is CB_EIO
 * whatever `err` already holds. The store used to return -errno through the status channel
 * and fill in the record only when it was empty, so after an earlier failure (the first error
 * wins) -ENOENT came out as CB_ENOTFOUND. */
static void test_posix__publish_failure_is_a_status(void **state)
{
    px *p = *state;
    for (int earlier = 0; earlier < 2; earlier++) {
        cb_error err = { 0 };
        cb_writer *w = NULL;
        char dir[700];
        assert_cb_ok(cb_store_put_container(p->store, "gone", 0, &err), &err);
        assert_cb_ok(cb_store_open_writer(p->store, "gone", "sub/obj", NULL, 0, &w, &err), &err);
        assert_cb_ok(cb_writer_write(w, "data", 4, &err), &err);
        snprintf(dir, sizeof(dir), "%s/gone/sub", p->root);
        tu_rmtree(dir); /* with any temporary file in it */
        if (earlier)
            cb_error_set(&err, CB_ENET, "an earlier failure");
        assert_int_equal(cb_writer_close(w, &err), CB_EIO);
        if (earlier)
            assert_cb_error(&err, CB_ENET, "an earlier failure");
        else
            assert_cb_error(&err, CB_EIO, "putting object 'gone/sub/obj' in place");
        cb_writer_free(w);
    }
}

static void test_posix__default_container(void **state)
{
    px *p = *state;
    cb_error err = { 0 };
    char *out = NULL;
    assert_cb_ok(cb_store_update_container_name(p->store, "0123abcd-0000", NULL, &out, &err), &err);
    assert_string_equal(out, "01/23/0123abcd-0000");
    free(out);
    assert_cb_ok(cb_store_update_container_name(p->store, "0123abcd", "mine", &out, &err), &err);
    assert_string_equal(out, "mine");
    free(out);
}

static void test_posix__check(void **state)
{
    px *p = *state;
    cb_error err = { 0 };
    char url[700];
    cb_store *s = NULL;
    assert_cb_ok(cb_store_check(p->store, &err), &err);
    snprintf(url, sizeof(url), "%s/file", p->outer);
    FILE *f = fopen(url, "w");
    fclose(f);
    snprintf(url, sizeof(url), "posix:%s/file", p->outer);
    assert_cb_ok(cb_store_open(&s, url, NULL, &err), &err);
    assert_int_equal(cb_store_check(s, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "not a directory");
    cb_store_free(s);
}

static void test_posix__no_create(void **state)
{
    px *p = *state;
    cb_error err = { 0 };
    cb_store_opts opts = CB_STORE_OPTS_INIT;
    char url[700];
    cb_store *s = NULL;
    opts.create_containers = 0;
    snprintf(url, sizeof(url), "file://%s", p->root);
    assert_cb_ok(cb_store_open(&s, url, &opts, &err), &err);
    assert_int_equal(cb_store_put_container(s, "new", 0, &err), CB_ENOTFOUND);
    assert_cb_error(&err, CB_ENOTFOUND, "creating containers is disabled");
    cb_store_free(s);
}

/* A store that does not exist is CB_ENOTFOUND naming its path, and nothing is created to
 * tell; cb_store_init makes it (with its parents), marks it, and is idempotent. */
static void test_posix__exists_and_init(void **state)
{
    px *p = *state;
    cb_error err = { 0 };
    cb_store_init_state st = CB_STORE_INIT_EXISTED;
    char path[800];
    struct stat sb;
    assert_int_equal(cb_store_exists(p->store, &err), CB_ENOTFOUND);
    assert_cb_error(&err, CB_ENOTFOUND, p->root);
    assert_int_equal(stat(p->root, &sb), -1); /* asking created nothing */
    cb_error_clear(&err);
    assert_cb_ok(cb_store_init(p->store, 0, &st, &err), &err);
    assert_int_equal(st, CB_STORE_INIT_CREATED);
    assert_cb_ok(cb_store_exists(p->store, &err), &err);
    snprintf(path, sizeof(path), "%s/" CB_STORE_MARKER, p->root);
    char *doc = NULL;
    size_t len = 0;
    assert_cb_ok(cb_store_read_all(p->store, "", CB_STORE_MARKER, 4096, &doc, &len, &err), &err);
    assert_non_null(strstr(doc, "\"format\": \"cinderblock\""));
    assert_non_null(strstr(doc, "\"cinder_chunked_format\": \"1.0.0\""));
    free(doc);
    assert_int_equal(stat(path, &sb), 0);
    time_t mtime = sb.st_mtime;
    assert_cb_ok(cb_store_init(p->store, 0, &st, &err), &err);
    assert_int_equal(st, CB_STORE_INIT_EXISTED);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mtime, mtime);
    /* an existing directory without the marker: marked */
    assert_int_equal(unlink(path), 0);
    assert_cb_ok(cb_store_init(p->store, 0, &st, &err), &err);
    assert_int_equal(st, CB_STORE_INIT_MARKED);
    /* a regular file where the store should be is no store */
    cb_store *s = NULL;
    snprintf(path, sizeof(path), "%s/afile", p->outer);
    FILE *f = fopen(path, "w");
    fclose(f);
    assert_cb_ok(cb_store_open(&s, path, NULL, &err), &err);
    assert_int_equal(cb_store_exists(s, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "not a directory");
    cb_store_free(s);
}

static void test_posix__urls(void **state)
{
    (void)state;
    cb_error err = { 0 };
    cb_store *s = NULL;
    assert_int_equal(cb_store_open(&s, "ftp:x", NULL, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "unknown store type 'ftp'");
    cb_error_clear(&err);
    assert_int_equal(cb_store_open(&s, "file:/x", NULL, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "file://");
    cb_error_clear(&err);
    assert_cb_ok(cb_store_open(&s, "./relative/dir", NULL, &err), &err);
    assert_string_equal(cb_store_get_info(s)->name, "posix");
    assert_int_equal(cb_store_get_info(s)->default_object_size, 1999994880ULL);
    cb_store_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_posix__traversal_refused, px_setup, px_teardown),
        cmocka_unit_test_setup_teardown(test_posix__symlink_not_followed, px_setup, px_teardown),
        cmocka_unit_test_setup_teardown(test_posix__modes_and_layout, px_setup, px_teardown),
        cmocka_unit_test_setup_teardown(test_posix__temporary_name_never_matches_prefix, px_setup,
                                        px_teardown),
        cmocka_unit_test_setup_teardown(test_posix__replace_and_abandon, px_setup, px_teardown),
        cmocka_unit_test_setup_teardown(test_posix__publish_failure_is_a_status, px_setup,
                                        px_teardown),
        cmocka_unit_test_setup_teardown(test_posix__default_container, px_setup, px_teardown),
        cmocka_unit_test_setup_teardown(test_posix__check, px_setup, px_teardown),
        cmocka_unit_test_setup_teardown(test_posix__no_create, px_setup, px_teardown),
        cmocka_unit_test_setup_teardown(test_posix__exists_and_init, px_setup, px_teardown),
        cmocka_unit_test(test_posix__urls),
    };
    return cmocka_run_group_tests_name("posix store", tests, NULL, NULL);
}
