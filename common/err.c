#include "err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct err_entry {
    int code;
    const char *name;
    const char *msg;
};

static const struct err_entry err_table[] = {
#define EDDY_ERR_ROW(name, n, msg) {EDDY_ERR_BASE - (n), "EDDY_ERR_" #name, msg},
    EDDY_ERR_TABLE(EDDY_ERR_ROW)
#undef EDDY_ERR_ROW
};

static const struct err_entry *err_find(int err)
{
    for (size_t i = 0; i < sizeof err_table / sizeof err_table[0]; i++)
        if (err_table[i].code == err)
            return &err_table[i];
    return NULL;
}

const char *eddy_strerror(int err)
{
    if (err == 0)
        return "success";
    const struct err_entry *e = err_find(err);
    if (e)
        return e->msg;
    if (err < 0 && err > EDDY_ERR_BASE)
        return strerror(-err);
    return "unknown error";
}

const char *eddy_err_name(int err)
{
    if (err == 0)
        return "EDDY_OK";
    const struct err_entry *e = err_find(err);
    if (e)
        return e->name;
    /* strerrorname_np exists only in glibc >= 2.32; the common ones suffice
     * for messages, the number is always printed alongside. */
    switch (-err) {
#define ERRNO_NAME(e)                                                                              \
    case e: return #e;
        ERRNO_NAME(ENOENT)
        ERRNO_NAME(EIO)
        ERRNO_NAME(ENOMEM)
        ERRNO_NAME(EACCES)
        ERRNO_NAME(EEXIST)
        ERRNO_NAME(EINVAL)
        ERRNO_NAME(EMFILE)
        ERRNO_NAME(ENOSPC)
        ERRNO_NAME(EROFS)
        ERRNO_NAME(EAGAIN)
#undef ERRNO_NAME
    default: return "EUNKNOWN";
    }
}
