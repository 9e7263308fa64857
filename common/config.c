#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"

/* Largest properties file we read: far above any real one, and a bound so
 * a wrong path (a device, a huge log) cannot make us allocate without limit. */
#define PROPS_MAX_FILE (4 * 1024 * 1024)

void eddy_props_init(eddy_props_t *ps)
{
    memset(ps, 0, sizeof *ps);
}

void eddy_props_free(eddy_props_t *ps)
{
    for (size_t i = 0; i < ps->ps_count; i++) {
        free(ps->ps_items[i].pr_key);
        free(ps->ps_items[i].pr_value);
    }
    for (size_t i = 0; i < ps->ps_nsources; i++)
        free(ps->ps_sources[i]);
    free(ps->ps_items);
    free(ps->ps_sources);
    memset(ps, 0, sizeof *ps);
}

static const char *props_intern_source(eddy_props_t *ps, const char *source)
{
    for (size_t i = 0; i < ps->ps_nsources; i++)
        if (strcmp(ps->ps_sources[i], source) == 0)
            return ps->ps_sources[i];
    char **ns = realloc(ps->ps_sources, (ps->ps_nsources + 1) * sizeof *ns);
    if (!ns)
        return NULL;
    ps->ps_sources = ns;
    if (!(ns[ps->ps_nsources] = strdup(source)))
        return NULL;
    return ns[ps->ps_nsources++];
}

/* Takes ownership of key and value on success. */
static int props_put(eddy_props_t *ps, const char *source, int line, char *key, char *value)
{
    const char *src = props_intern_source(ps, source);
    if (!src)
        return -ENOMEM;
    for (size_t i = 0; i < ps->ps_count; i++) {
        eddy_prop_t *p = &ps->ps_items[i];
        if (strcmp(p->pr_key, key) == 0) {
            free(p->pr_key);
            free(p->pr_value);
            p->pr_key = key;
            p->pr_value = value;
            p->pr_source = src;
            p->pr_line = line;
            return 0;
        }
    }
    if (ps->ps_count == ps->ps_cap) {
        size_t cap = ps->ps_cap ? ps->ps_cap * 2 : 16;
        eddy_prop_t *ni = realloc(ps->ps_items, cap * sizeof *ni);
        if (!ni)
            return -ENOMEM;
        ps->ps_items = ni;
        ps->ps_cap = cap;
    }
    ps->ps_items[ps->ps_count++] = (eddy_prop_t){key, value, src, line};
    return 0;
}

const char *eddy_props_get(const eddy_props_t *ps, const char *key)
{
    for (size_t i = 0; i < ps->ps_count; i++)
        if (strcmp(ps->ps_items[i].pr_key, key) == 0)
            return ps->ps_items[i].pr_value;
    return NULL;
}

/* Appends one UTF-8 encoded code point. */
static size_t utf8_put(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    out[0] = (char)(0xe0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
}

/* A logical line, continuation lines joined, with escapes still in place. */
struct logical_line {
    char *text;
    size_t len;
    int first_line;
};

/* Decodes escapes of s[0..n) into a new string. Returns NULL and writes the
 * reason on a malformed \u escape. */
static char *unescape(const char *s, size_t n, const char **why)
{
    char *out = malloc(n * 3 + 1); /* \uXXXX (6 bytes) never grows past 3 */
    if (!out) {
        *why = "out of memory";
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c != '\\' || i + 1 == n) {
            if (c != '\\')
                out[o++] = c;
            continue;
        }
        c = s[++i];
        switch (c) {
        case 't': out[o++] = '\t'; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 'f': out[o++] = '\f'; break;
        case 'u': {
            unsigned cp = 0;
            if (i + 4 >= n) {
                free(out);
                *why = "malformed \\uXXXX escape";
                return NULL;
            }
            for (int k = 1; k <= 4; k++) {
                char h = s[i + (size_t)k];
                if (!isxdigit((unsigned char)h)) {
                    free(out);
                    *why = "malformed \\uXXXX escape";
                    return NULL;
                }
                cp = cp * 16 + (unsigned)(isdigit((unsigned char)h)
                                              ? h - '0'
                                              : (tolower((unsigned char)h) - 'a' + 10));
            }
            i += 4;
            o += utf8_put(out + o, cp);
            break;
        }
        default: out[o++] = c; break;
        }
    }
    out[o] = 0;
    return out;
}

static int ends_with_odd_backslashes(const char *s, size_t n)
{
    size_t k = 0;
    while (k < n && s[n - 1 - k] == '\\')
        k++;
    return k % 2 == 1;
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\f';
}

int eddy_props_parse(eddy_props_t *ps, const char *source, const char *text, size_t len,
                     char *errstr, size_t errstr_size)
{
    size_t pos = 0;
    int lineno = 0;
    char *acc = NULL; /* a logical line being assembled from continuations */
    size_t acc_len = 0;
    int acc_line = 0;
    int rc = 0;

    while (pos < len) {
        size_t start = pos;
        while (pos < len && text[pos] != '\n' && text[pos] != '\r')
            pos++;
        size_t end = pos;
        if (pos < len && text[pos] == '\r')
            pos++;
        if (pos < len && text[pos] == '\n')
            pos++;
        lineno++;

        size_t s = start;
        while (s < end && is_ws(text[s]))
            s++;
        if (!acc && (s == end || text[s] == '#' || text[s] == '!'))
            continue;
        int cont = ends_with_odd_backslashes(text + s, end - s);
        size_t piece = end - s - (cont ? 1 : 0);
        char *na = realloc(acc, acc_len + piece + 1);
        if (!na) {
            rc = -ENOMEM;
            goto out;
        }
        if (!acc)
            acc_line = lineno;
        acc = na;
        memcpy(acc + acc_len, text + s, piece);
        acc_len += piece;
        acc[acc_len] = 0;
        if (cont && pos < len)
            continue;

        /* Split the logical line into key and value at the first unescaped
         * separator. */
        size_t k = 0;
        while (k < acc_len && !(acc[k] == '=' || acc[k] == ':' || is_ws(acc[k]))) {
            if (acc[k] == '\\')
                k++;
            k++;
        }
        if (k > acc_len)
            k = acc_len;
        size_t v = k;
        while (v < acc_len && is_ws(acc[v]))
            v++;
        if (v < acc_len && (acc[v] == '=' || acc[v] == ':'))
            v++;
        while (v < acc_len && is_ws(acc[v]))
            v++;
        const char *why = NULL;
        if (k == 0) {
            snprintf(errstr, errstr_size, "%s:%d: line has a value but no key", source, acc_line);
            rc = EDDY_ERR_CONFIG;
            goto out;
        }
        char *key = unescape(acc, k, &why);
        char *value = key ? unescape(acc + v, acc_len - v, &why) : NULL;
        if (!key || !value) {
            snprintf(errstr, errstr_size, "%s:%d: %.*s: %s", source, acc_line, (int)k, acc, why);
            free(key);
            rc = EDDY_ERR_CONFIG;
            goto out;
        }
        if ((rc = props_put(ps, source, acc_line, key, value)) < 0) {
            free(key);
            free(value);
            snprintf(errstr, errstr_size, "%s: out of memory", source);
            goto out;
        }
        free(acc);
        acc = NULL;
        acc_len = 0;
    }
out:
    free(acc);
    return rc;
}

int eddy_props_load(eddy_props_t *ps, const char *path, char *errstr, size_t errstr_size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(errstr, errstr_size, "%s: cannot open: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > PROPS_MAX_FILE) {
        snprintf(errstr, errstr_size, "%s: not a regular file of at most %d bytes", path,
                 PROPS_MAX_FILE);
        close(fd);
        return EDDY_ERR_CONFIG;
    }
    size_t n = (size_t)st.st_size;
    char *text = malloc(n + 1);
    if (!text) {
        close(fd);
        return -ENOMEM;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, text + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            snprintf(errstr, errstr_size, "%s: read failed: %s", path, strerror(e));
            close(fd);
            free(text);
            return -e;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    int rc = eddy_props_parse(ps, path, text, got, errstr, errstr_size);
    free(text);
    return rc;
}

int eddy_props_set(eddy_props_t *ps, const char *source, const char *assignment, char *errstr,
                   size_t errstr_size)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment) {
        snprintf(errstr, errstr_size, "%s: '%s' is not key=value", source, assignment);
        return EDDY_ERR_CONFIG;
    }
    char *key = strndup(assignment, (size_t)(eq - assignment));
    char *value = strdup(eq + 1);
    if (!key || !value || props_put(ps, source, 0, key, value) < 0) {
        free(key);
        free(value);
        snprintf(errstr, errstr_size, "%s: out of memory", source);
        return -ENOMEM;
    }
    return 0;
}

const eddy_cfg_def_t *eddy_cfg_find(const eddy_cfg_def_t *defs, const char *key)
{
    for (const eddy_cfg_def_t *d = defs; d->cd_name; d++)
        if (strcmp(d->cd_name, key) == 0)
            return d;
    return NULL;
}

static int bounds_ok(const eddy_cfg_def_t *d, double v)
{
    if (d->cd_min == 0 && d->cd_max == 0)
        return 1;
    return v >= d->cd_min && v <= d->cd_max;
}

static int parse_flags(const eddy_cfg_def_t *d, const char *value, int *out)
{
    int bits = 0;
    const char *p = value;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        size_t n = strcspn(p, ", ");
        int found = -1;
        for (int i = 0; d->cd_choices[i]; i++)
            if (strlen(d->cd_choices[i]) == n && strncmp(d->cd_choices[i], p, n) == 0)
                found = i;
        if (found < 0)
            return -1;
        bits |= 1 << found;
        p += n;
    }
    *out = bits;
    return 0;
}

int eddy_cfg_set(const eddy_cfg_def_t *defs, void *obj, const char *key, const char *value,
                 const char *where, char *errstr, size_t errstr_size)
{
    const eddy_cfg_def_t *d = eddy_cfg_find(defs, key);
    if (!d) {
        snprintf(errstr, errstr_size, "%s: unknown configuration key '%s'", where, key);
        return EDDY_ERR_CONFIG;
    }
    char *field = (char *)obj + d->cd_offset;
    char *end = NULL;
    const char *want = NULL;
    errno = 0;
    switch (d->cd_type) {
    case CFG_INT32:
    case CFG_INT64: {
        long long v = strtoll(value, &end, 10);
        if (end == value || *end || errno) {
            want = "an integer";
            break;
        }
        if (!bounds_ok(d, (double)v) ||
            (d->cd_type == CFG_INT32 && (v < INT32_MIN || v > INT32_MAX))) {
            /* Without declared bounds the type's own range is the one that
             * applies; "[0, 0]" would send the user the wrong way. */
            int typed = d->cd_min == 0 && d->cd_max == 0;
            snprintf(errstr, errstr_size, "%s: %s: %s is out of range [%.0f, %.0f]", where, key,
                     value, typed ? (double)INT32_MIN : d->cd_min,
                     typed ? (double)INT32_MAX : d->cd_max);
            return EDDY_ERR_CONFIG;
        }
        if (d->cd_type == CFG_INT32)
            *(int32_t *)field = (int32_t)v;
        else
            *(int64_t *)field = v;
        return 0;
    }
    case CFG_DOUBLE: {
        double v = strtod(value, &end);
        if (end == value || *end || errno || isnan(v)) {
            want = "a number";
            break;
        }
        if (!bounds_ok(d, v)) {
            snprintf(errstr, errstr_size, "%s: %s: %s is out of range [%g, %g]", where, key, value,
                     d->cd_min, d->cd_max);
            return EDDY_ERR_CONFIG;
        }
        *(double *)field = v;
        return 0;
    }
    case CFG_BOOL:
        if (strcasecmp(value, "true") == 0)
            *(int *)field = 1;
        else if (strcasecmp(value, "false") == 0)
            *(int *)field = 0;
        else
            want = "true or false";
        if (!want)
            return 0;
        break;
    case CFG_STRING: {
        char *copy = strdup(value);
        if (!copy)
            return -ENOMEM;
        free(*(char **)field);
        *(char **)field = copy;
        return 0;
    }
    case CFG_LIST_TEXT: {
        size_t n = strlen(value);
        if (n >= EDDY_CFG_TEXT_MAX) {
            snprintf(errstr, errstr_size, "%s: %s: the value has %zu characters; at most %d fit",
                     where, key, n, EDDY_CFG_TEXT_MAX - 1);
            return EDDY_ERR_CONFIG;
        }
        memcpy(field, value, n + 1);
        return 0;
    }
    case CFG_FLAGS:
    case CFG_ENUM:
        if (d->cd_type == CFG_FLAGS && parse_flags(d, value, (int *)field) == 0)
            return 0;
        for (int i = 0; d->cd_type == CFG_ENUM && d->cd_choices[i]; i++)
            if (strcmp(d->cd_choices[i], value) == 0) {
                *(int *)field = i;
                return 0;
            }
        {
            char list[256] = "";
            for (int i = 0; d->cd_choices[i]; i++) {
                if (i)
                    strncat(list, ", ", sizeof list - strlen(list) - 1);
                strncat(list, d->cd_choices[i], sizeof list - strlen(list) - 1);
            }
            snprintf(errstr, errstr_size, "%s: %s: '%s' is not %s {%s}", where, key, value,
                     d->cd_type == CFG_FLAGS ? "a list of" : "one of", list);
            return EDDY_ERR_CONFIG;
        }
    }
    snprintf(errstr, errstr_size, "%s: %s: '%s' is not %s", where, key, value, want);
    return EDDY_ERR_CONFIG;
}

int eddy_cfg_defaults(const eddy_cfg_def_t *defs, void *obj, char *errstr, size_t errstr_size)
{
    for (const eddy_cfg_def_t *d = defs; d->cd_name; d++) {
        if (!d->cd_default)
            continue;
        int rc = eddy_cfg_set(defs, obj, d->cd_name, d->cd_default, "default", errstr, errstr_size);
        if (rc)
            return rc;
    }
    return 0;
}

int eddy_cfg_apply(const eddy_cfg_def_t *defs, void *obj, const eddy_props_t *ps, char *errstr,
                   size_t errstr_size)
{
    for (size_t i = 0; i < ps->ps_count; i++) {
        const eddy_prop_t *p = &ps->ps_items[i];
        char where[512];
        if (p->pr_line)
            snprintf(where, sizeof where, "%s:%d", p->pr_source, p->pr_line);
        else
            snprintf(where, sizeof where, "%s", p->pr_source);
        int rc = eddy_cfg_set(defs, obj, p->pr_key, p->pr_value, where, errstr, errstr_size);
        if (rc)
            return rc;
    }
    return 0;
}

void eddy_cfg_format(const eddy_cfg_def_t *d, const void *obj, char *out, size_t out_size)
{
    const char *field = (const char *)obj + d->cd_offset;
    switch (d->cd_type) {
    case CFG_INT32: snprintf(out, out_size, "%d", *(const int32_t *)field); break;
    case CFG_INT64: snprintf(out, out_size, "%lld", (long long)*(const int64_t *)field); break;
    case CFG_BOOL: snprintf(out, out_size, "%s", *(const int *)field ? "true" : "false"); break;
    case CFG_DOUBLE: {
        /* The shortest text that parses back to the same double: %g alone
         * keeps 6 digits and would change the value on a round trip. */
        double v = *(const double *)field;
        for (int prec = 6; prec <= 17; prec++) {
            snprintf(out, out_size, "%.*g", prec, v);
            if (strtod(out, NULL) == v)
                break;
        }
        break;
    }
    case CFG_STRING: {
        const char *s = *(char *const *)field;
        snprintf(out, out_size, "%s", s ? s : "");
        break;
    }
    case CFG_LIST_TEXT: snprintf(out, out_size, "%s", field); break;
    case CFG_ENUM: {
        int i = *(const int *)field, n = 0;
        while (d->cd_choices[n])
            n++;
        snprintf(out, out_size, "%s", i >= 0 && i < n ? d->cd_choices[i] : "");
        break;
    }
    case CFG_FLAGS: {
        int bits = *(const int *)field;
        out[0] = 0;
        for (int i = 0; d->cd_choices[i]; i++) {
            if (!(bits & (1 << i)))
                continue;
            if (out[0])
                strncat(out, ",", out_size - strlen(out) - 1);
            strncat(out, d->cd_choices[i], out_size - strlen(out) - 1);
        }
        break;
    }
    }
}

void eddy_cfg_free(const eddy_cfg_def_t *defs, void *obj)
{
    for (const eddy_cfg_def_t *d = defs; d->cd_name; d++) {
        if (d->cd_type == CFG_STRING) {
            char **f = (char **)((char *)obj + d->cd_offset);
            free(*f);
            *f = NULL;
        }
    }
}
