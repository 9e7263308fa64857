/* Kafka-style properties files, and typed configuration built from them.
 *
 * Parsing follows java.util.Properties: '#' or '!' comments, key and value
 * separated by '=', ':' or whitespace, backslash escapes (\t \n \r \f \\ \uXXXX),
 * a trailing backslash continues the line. Every entry remembers where it came
 * from (file and line, or "--set"), so errors can name the file, the line and
 * the key: "broker.properties:12: log.segment.bytes: '12x' is not an integer".
 *
 * A config schema is a table of eddy_cfg_def rows (name, type, default,
 * bounds, field offset). eddy_cfg_apply() sets the fields of a plain struct
 * from a property set; an unknown key or a bad value is an error.
 */
#ifndef EDDY_COMMON_CONFIG_H
#define EDDY_COMMON_CONFIG_H

#include <stddef.h>
#include <stdint.h>

typedef struct eddy_prop {
    char *pr_key;    /* owned */
    char *pr_value;  /* owned */
    const char *pr_source; /* borrowed from the eddy_props that holds it */
    int pr_line;     /* 0 when not from a file */
} eddy_prop_t;

typedef struct eddy_props {
    eddy_prop_t *ps_items;
    size_t ps_count, ps_cap;
    char **ps_sources; /* owned copies of source names */
    size_t ps_nsources;
} eddy_props_t;

void eddy_props_init(eddy_props_t *ps);
void eddy_props_free(eddy_props_t *ps);
/* Parse text (not NUL-terminated; len bytes) named source. Later keys
 * override earlier ones, as in Java. */
int eddy_props_parse(eddy_props_t *ps, const char *source, const char *text, size_t len,
                     char *errstr, size_t errstr_size);
int eddy_props_load(eddy_props_t *ps, const char *path, char *errstr, size_t errstr_size);
/* One "key=value" override, e.g. from --set; source names it in errors. */
int eddy_props_set(eddy_props_t *ps, const char *source, const char *assignment, char *errstr,
                   size_t errstr_size);
/* The value of key, or NULL (borrowed, valid until the set changes). */
const char *eddy_props_get(const eddy_props_t *ps, const char *key);

enum eddy_cfg_type {
    CFG_INT32,  /* int32_t */
    CFG_INT64,  /* int64_t */
    CFG_BOOL,   /* int: true/false */
    CFG_DOUBLE, /* double */
    CFG_STRING, /* char *, owned by the struct: eddy_cfg_free() releases it */
    CFG_FLAGS,  /* int bitmask: comma-separated names from cd_choices, bit i = choice i */
    CFG_ENUM,   /* int: exactly one name from cd_choices, stored as its index */
    CFG_LIST_TEXT, /* char[EDDY_CFG_TEXT_MAX] inside the struct: a comma-separated list kept
                    * as text (so the struct copies by value); longer values are refused */
};

#define EDDY_CFG_TEXT_MAX 1024

typedef struct eddy_cfg_def {
    const char *cd_name;
    enum eddy_cfg_type cd_type;
    size_t cd_offset;       /* offsetof the field */
    const char *cd_default; /* as text, parsed like a user value; NULL = none */
    double cd_min, cd_max;  /* numeric bounds, inclusive (ignored when both 0) */
    const char *const *cd_choices; /* CFG_FLAGS and CFG_ENUM names, NULL-terminated */
    const char *cd_doc;
} eddy_cfg_def_t;

/* Rows end with a {NULL} sentinel. */
int eddy_cfg_defaults(const eddy_cfg_def_t *defs, void *obj, char *errstr, size_t errstr_size);
int eddy_cfg_set(const eddy_cfg_def_t *defs, void *obj, const char *key, const char *value,
                 const char *where, char *errstr, size_t errstr_size);
int eddy_cfg_apply(const eddy_cfg_def_t *defs, void *obj, const eddy_props_t *ps, char *errstr,
                   size_t errstr_size);
const eddy_cfg_def_t *eddy_cfg_find(const eddy_cfg_def_t *defs, const char *key);
/* Writes the field's current value as text (for DescribeConfigs-style output). */
void eddy_cfg_format(const eddy_cfg_def_t *def, const void *obj, char *out, size_t out_size);
void eddy_cfg_free(const eddy_cfg_def_t *defs, void *obj);

#endif
