/* DescribeConfigs, AlterConfigs and IncrementalAlterConfigs: topic settings
 * (broker/log/config.c, persisted by topics.c) and the broker's dynamic
 * settings (broker_dynamic_configs, persisted in <data>/DYNAMIC_FILE).
 * docs/broker.md, "Topic configs" and "Dynamic broker configs". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker_int.h"
#include "broker/log/log_int.h"
#include "common/err.h"
#include "common/log.h"

#define DYNAMIC_FILE "broker-dynamic.properties"
#define NAME_MAX_LEN 255
#define LIST_MAX 256 /* items of a list setting APPEND/SUBTRACT handles */

static int8_t config_type(const eddy_cfg_def_t *d)
{
    /* Kept in 64 bits here, an int in Kafka (and bounded like one). */
    static const char *const kafka_ints[] = {
        "segment.bytes",  "log.segment.bytes",   "offsets.topic.segment.bytes",
        "log.roll.hours", "log.retention.hours", "log.retention.minutes"};
    for (size_t i = 0; i < sizeof kafka_ints / sizeof kafka_ints[0]; i++)
        if (strcmp(d->cd_name, kafka_ints[i]) == 0)
            return CONFIG_TYPE_INT;
    switch (d->cd_type) {
    case CFG_INT32: return CONFIG_TYPE_INT;
    case CFG_INT64: return CONFIG_TYPE_LONG;
    case CFG_BOOL: return CONFIG_TYPE_BOOLEAN;
    case CFG_DOUBLE: return CONFIG_TYPE_DOUBLE;
    case CFG_FLAGS:
    case CFG_LIST_TEXT: return CONFIG_TYPE_LIST;
    default: return CONFIG_TYPE_STRING;
    }
}

static int is_list(const eddy_cfg_def_t *d)
{
    return d->cd_type == CFG_FLAGS || d->cd_type == CFG_LIST_TEXT;
}

/* ---- dynamic broker settings ---- */

/* Where a broker setting's value comes from, Kafka's order of precedence. */
static int8_t broker_source(const eddy_broker_t *b, const char *name)
{
    if (eddy_props_get(&b->bk_dyn_node, name))
        return CONFIG_SOURCE_DYNAMIC_BROKER;
    if (eddy_props_get(&b->bk_dyn_default, name))
        return CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER;
    if (eddy_props_get(&b->bk_static, name))
        return CONFIG_SOURCE_STATIC_BROKER;
    return CONFIG_SOURCE_DEFAULT;
}

static size_t field_size(const eddy_cfg_def_t *d)
{
    switch (d->cd_type) {
    case CFG_INT32: return sizeof(int32_t);
    case CFG_INT64: return sizeof(int64_t);
    case CFG_DOUBLE: return sizeof(double);
    default: return sizeof(int);
    }
}

/* The broker's settings with dyn_default and dyn_node over the static ones:
 * checked, and unless validate_only made current (topic defaults of every
 * topic, the cleaner, the connection limits). Returns a KERR_* code. */
static int dynamic_apply(eddy_broker_t *b, const eddy_props_t *dyn_default,
                         const eddy_props_t *dyn_node, int validate_only, char *msg,
                         size_t msg_size)
{
    broker_config_t nc;
    int rc = broker_config_load(&nc, &b->bk_static, msg, msg_size);
    if (rc == 0)
        rc = eddy_cfg_apply(broker_config_defs, &nc, dyn_default, msg, msg_size);
    if (rc == 0)
        rc = eddy_cfg_apply(broker_config_defs, &nc, dyn_node, msg, msg_size);
    log_config_t defaults;
    broker_topic_defaults(&nc, &defaults);
    if (rc == 0)
        rc = log_config_check(&defaults, msg, msg_size);
    int err = rc ? KERR_INVALID_CONFIG : KERR_NONE;
    if (err == KERR_NONE && !validate_only && b->bk_topics.tr_dir)
        err = topics_set_defaults(&b->bk_topics, &defaults, msg, msg_size);
    if (err == KERR_NONE && !validate_only) {
        for (int i = 0; broker_dynamic_configs[i]; i++) {
            const eddy_cfg_def_t *d = eddy_cfg_find(broker_config_defs, broker_dynamic_configs[i]);
            memcpy((char *)&b->bk_cfg + d->cd_offset, (char *)&nc + d->cd_offset, field_size(d));
        }
    }
    broker_config_free(&nc);
    return err;
}

static int dynamic_write(const eddy_broker_t *b, const eddy_props_t *dyn_default,
                         const eddy_props_t *dyn_node)
{
    eddy_wr_t wr;
    wr_init(&wr);
    static const char head[] = "# Eddy's dynamic broker settings (AlterConfigs, "
                               "IncrementalAlterConfigs): written whole\n";
    wr_bytes(&wr, head, sizeof head - 1);
    const eddy_props_t *sets[2] = {dyn_default, dyn_node};
    for (int s = 0; s < 2; s++)
        for (size_t i = 0; i < sets[s]->ps_count; i++) {
            char line[2048];
            int n = snprintf(line, sizeof line, "%s.%s=%s\n", s == 0 ? "default" : "node",
                             sets[s]->ps_items[i].pr_key, sets[s]->ps_items[i].pr_value);
            wr_bytes(&wr, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
        }
    int rc = wr.wr_err
                 ? wr.wr_err
                 : log_write_file_atomic(b->bk_cfg.log_dirs, DYNAMIC_FILE, wr.wr_buf, wr.wr_len, 1);
    wr_free(&wr);
    return rc;
}

int broker_dynamic_load(eddy_broker_t *b, const eddy_props_t *props, char *errstr,
                        size_t errstr_size)
{
    eddy_props_init(&b->bk_static);
    eddy_props_init(&b->bk_dyn_default);
    eddy_props_init(&b->bk_dyn_node);
    for (size_t i = 0; props && i < props->ps_count; i++) {
        char assign[8192];
        snprintf(assign, sizeof assign, "%s=%s", props->ps_items[i].pr_key,
                 props->ps_items[i].pr_value);
        int rc = eddy_props_set(&b->bk_static, props->ps_items[i].pr_source, assign, errstr,
                                errstr_size);
        if (rc < 0)
            return rc;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", b->bk_cfg.log_dirs, DYNAMIC_FILE);
    eddy_props_t file;
    eddy_props_init(&file);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    fclose(f);
    int rc = eddy_props_load(&file, path, errstr, errstr_size);
    for (size_t i = 0; rc == 0 && i < file.ps_count; i++) {
        const char *key = file.ps_items[i].pr_key;
        eddy_props_t *to = strncmp(key, "default.", 8) == 0 ? &b->bk_dyn_default
                           : strncmp(key, "node.", 5) == 0  ? &b->bk_dyn_node
                                                            : NULL;
        const char *name = to == &b->bk_dyn_default ? key + 8 : key + 5;
        if (!to || !broker_config_is_dynamic(name)) {
            snprintf(errstr, errstr_size, "%s: '%s' is not a dynamic broker setting", path, key);
            rc = EDDY_ERR_CONFIG;
            break;
        }
        char assign[8192];
        snprintf(assign, sizeof assign, "%s=%s", name, file.ps_items[i].pr_value);
        rc = eddy_props_set(to, path, assign, errstr, errstr_size);
    }
    eddy_props_free(&file);
    if (rc)
        return rc;
    char msg[512];
    if (dynamic_apply(b, &b->bk_dyn_default, &b->bk_dyn_node, 0, msg, sizeof msg) != KERR_NONE) {
        snprintf(errstr, errstr_size, "%s: %s", path, msg);
        return EDDY_ERR_CONFIG;
    }
    if (b->bk_dyn_default.ps_count + b->bk_dyn_node.ps_count)
        EDDY_LOG_INFO("broker", "%s: %zu dynamic setting(s)", path,
                      b->bk_dyn_default.ps_count + b->bk_dyn_node.ps_count);
    return 0;
}

void broker_dynamic_free(eddy_broker_t *b)
{
    eddy_props_free(&b->bk_static);
    eddy_props_free(&b->bk_dyn_default);
    eddy_props_free(&b->bk_dyn_node);
}

/* ---- DescribeConfigs ---- */

static int key_wanted(const DescribeConfigsResource *r, const char *name)
{
    if (r->ConfigurationKeysCount < 0)
        return 1;
    for (int32_t i = 0; i < r->ConfigurationKeysCount; i++)
        if (kstr_eq(r->ConfigurationKeys[i], name))
            return 1;
    return 0;
}

static int add_synonym(eddy_arena_t *a, DescribeConfigsResourceResult *e, const char *name,
                       const char *value, int8_t source)
{
    DescribeConfigsSynonym *s = &e->Synonyms[e->SynonymsCount++];
    s->Name = kstr_arena(a, name);
    s->Value = kstr_arena(a, value);
    s->Source = source;
    return s->Name.ptr && s->Value.ptr ? 0 : -ENOMEM;
}

/* The synonyms of a setting, most precedent first, as Kafka lists them:
 * the topic's own value, then each broker setting it derives from, from
 * each source that sets it, then the built-in default. */
static int synonyms(eddy_broker_t *b, eddy_arena_t *a, DescribeConfigsResourceResult *e,
                    const eddy_cfg_def_t *d, const char *topic_value, const char *const *bnames)
{
    e->Synonyms = arena_calloc(a, 16, sizeof *e->Synonyms);
    if (!e->Synonyms)
        return -ENOMEM;
    int rc = 0;
    if (topic_value)
        rc = add_synonym(a, e, d->cd_name, topic_value, CONFIG_SOURCE_DYNAMIC_TOPIC);
    const char *self[2] = {d->cd_name, NULL};
    if (!bnames && !topic_value)
        bnames = self;
    const eddy_props_t *sets[3] = {&b->bk_dyn_node, &b->bk_dyn_default, &b->bk_static};
    const int8_t sources[3] = {CONFIG_SOURCE_DYNAMIC_BROKER, CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER,
                               CONFIG_SOURCE_STATIC_BROKER};
    for (int s = 0; s < 3 && bnames; s++)
        for (int i = 0; bnames[i] && rc == 0 && e->SynonymsCount < 14; i++) {
            const char *v = eddy_props_get(sets[s], bnames[i]);
            if (v)
                rc = add_synonym(a, e, bnames[i], v, sources[s]);
        }
    if (rc == 0 && bnames) {
        /* "-2" is Eddy's "not set" of log.retention.ms and log.roll.ms:
         * the default that applies is the next synonym's (…hours=168). */
        for (int i = 0; bnames[i]; i++) {
            const eddy_cfg_def_t *bd = eddy_cfg_find(broker_config_defs, bnames[i]);
            if (bd && bd->cd_default && strcmp(bd->cd_default, "-2") != 0) {
                rc = add_synonym(a, e, bnames[i], bd->cd_default, CONFIG_SOURCE_DEFAULT);
                break;
            }
        }
    } else if (rc == 0 && d->cd_default) {
        rc = add_synonym(a, e, d->cd_name, d->cd_default, CONFIG_SOURCE_DEFAULT);
    }
    return rc;
}

static int describe_topic(eddy_broker_t *b, eddy_arena_t *a, const DescribeConfigsRequest *req,
                          const DescribeConfigsResource *r, const topic_t *t,
                          DescribeConfigsResult *out)
{
    int n = 0;
    for (const eddy_cfg_def_t *d = log_config_defs; d->cd_name; d++)
        n++;
    out->Configs = arena_calloc(a, (size_t)n, sizeof *out->Configs);
    if (!out->Configs)
        return -ENOMEM;
    for (const eddy_cfg_def_t *d = log_config_defs; d->cd_name; d++) {
        if (!key_wanted(r, d->cd_name))
            continue;
        char val[EDDY_CFG_TEXT_MAX + 16];
        eddy_cfg_format(d, &t->t_cfg, val, sizeof val);
        DescribeConfigsResourceResult *e = &out->Configs[out->ConfigsCount++];
        e->Name = kstr_c(d->cd_name);
        e->Value = kstr_arena(a, val);
        const char *own = eddy_props_get(&t->t_overrides, d->cd_name);
        const char *const *bnames = broker_topic_synonyms(d->cd_name);
        int8_t src = CONFIG_SOURCE_DEFAULT;
        if (own)
            src = CONFIG_SOURCE_DYNAMIC_TOPIC;
        else
            for (int i = 0; bnames && bnames[i]; i++) {
                int8_t s = broker_source(b, bnames[i]);
                if (s < src)
                    src = s;
            }
        e->ConfigSource = src;
        e->IsDefault = src == CONFIG_SOURCE_DEFAULT;
        e->ReadOnly = 0;
        e->ConfigType = config_type(d);
        e->Documentation = req->IncludeDocumentation ? kstr_c(d->cd_doc) : KSTR_NULL;
        if (req->IncludeSynonyms && synonyms(b, a, e, d, own, bnames) < 0)
            return -ENOMEM;
        if (!e->Value.ptr)
            return -ENOMEM;
    }
    return 0;
}

/* name "": the cluster-wide dynamic defaults only, as Kafka lists them. */
static int describe_broker(eddy_broker_t *b, eddy_arena_t *a, const DescribeConfigsRequest *req,
                           const DescribeConfigsResource *r, int cluster_default,
                           DescribeConfigsResult *out)
{
    int n = 0;
    for (const eddy_cfg_def_t *d = broker_config_defs; d->cd_name; d++)
        n++;
    out->Configs = arena_calloc(a, (size_t)n, sizeof *out->Configs);
    if (!out->Configs)
        return -ENOMEM;
    for (const eddy_cfg_def_t *d = broker_config_defs; d->cd_name; d++) {
        const char *dv = eddy_props_get(&b->bk_dyn_default, d->cd_name);
        if (!key_wanted(r, d->cd_name) || (cluster_default && !dv))
            continue;
        char val[1024];
        eddy_cfg_format(d, &b->bk_cfg, val, sizeof val);
        DescribeConfigsResourceResult *e = &out->Configs[out->ConfigsCount++];
        e->Name = kstr_c(d->cd_name);
        e->Value = kstr_arena(a, cluster_default ? dv : val);
        e->ConfigSource = cluster_default ? CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER
                                          : broker_source(b, d->cd_name);
        e->IsDefault = e->ConfigSource == CONFIG_SOURCE_DEFAULT;
        e->ReadOnly = !broker_config_is_dynamic(d->cd_name);
        e->ConfigType = config_type(d);
        e->Documentation = req->IncludeDocumentation ? kstr_c(d->cd_doc) : KSTR_NULL;
        if (req->IncludeSynonyms && synonyms(b, a, e, d, NULL, NULL) < 0)
            return -ENOMEM;
        if (!e->Value.ptr)
            return -ENOMEM;
    }
    return 0;
}

/* 1 for this node's id, 0 for "" (the cluster default), -1 otherwise. */
static int broker_scope(const eddy_broker_t *b, kstr_t name)
{
    char id[16];
    snprintf(id, sizeof id, "%d", b->bk_cfg.broker_id);
    if (name.len == 0)
        return 0;
    return kstr_eq(name, id) ? 1 : -1;
}

/* Kafka's rule for config resources: a topic's needs op on the topic, a
 * broker's op on the cluster. 0 when allowed, else the error. */
static int16_t config_denied(eddy_broker_t *b, req_slot_t *s, int op, int8_t type, kstr_t name)
{
    if (type == CONFIG_RESOURCE_TOPIC)
        return broker_authorize(b, s, op, ACL_RES_TOPIC, name) ? KERR_NONE
                                                               : KERR_TOPIC_AUTHORIZATION_FAILED;
    if (type == CONFIG_RESOURCE_BROKER)
        return broker_authorize_cluster(b, s, op) ? KERR_NONE : KERR_CLUSTER_AUTHORIZATION_FAILED;
    return KERR_NONE;
}

int handle_describe_configs(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    DescribeConfigsRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    eddy_arena_t *a = &s->rs_out; /* response arrays: not bounded by the request size */
    int rc = wire_describe_configs_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    DescribeConfigsResponse resp = {0, NULL, req.ResourcesCount};
    resp.Results = resp_array(a, req.ResourcesCount, sizeof *resp.Results);
    if (!resp.Results)
        return -ENOMEM;
    for (int32_t i = 0; i < req.ResourcesCount && rc == 0; i++) {
        DescribeConfigsResource *r = &req.Resources[i];
        DescribeConfigsResult *out = &resp.Results[i];
        out->ResourceType = r->ResourceType;
        out->ResourceName = r->ResourceName;
        out->ErrorMessage = KSTR_NULL;
        char msg[400];
        int16_t denied = config_denied(b, s, ACL_OP_DESCRIBE_CONFIGS, r->ResourceType,
                                       r->ResourceName);
        if (denied) {
            out->ErrorCode = denied;
            continue;
        }
        if (r->ResourceType == CONFIG_RESOURCE_TOPIC) {
            topic_t *t = topics_find(&b->bk_topics, r->ResourceName.ptr,
                                     (size_t)r->ResourceName.len);
            if (!t) {
                out->ErrorCode = KERR_UNKNOWN_TOPIC_OR_PARTITION;
                snprintf(msg, sizeof msg, "topic '%.*s' does not exist",
                         r->ResourceName.len > 200 ? 200 : r->ResourceName.len,
                         r->ResourceName.ptr);
                out->ErrorMessage = kstr_arena(a, msg);
                continue;
            }
            rc = describe_topic(b, a, &req, r, t, out);
        } else if (r->ResourceType == CONFIG_RESOURCE_BROKER) {
            int scope = broker_scope(b, r->ResourceName);
            if (scope < 0) {
                out->ErrorCode = KERR_INVALID_REQUEST;
                snprintf(msg, sizeof msg, "this broker is node %d", b->bk_cfg.broker_id);
                out->ErrorMessage = kstr_arena(a, msg);
                continue;
            }
            rc = describe_broker(b, a, &req, r, scope == 0, out);
        } else {
            out->ErrorCode = KERR_INVALID_REQUEST;
            snprintf(msg, sizeof msg, "resource type %d is not supported (topic 2, broker 4)",
                     r->ResourceType);
            out->ErrorMessage = kstr_arena(a, msg);
        }
    }
    if (rc < 0)
        return rc;
    wire_describe_configs_resp_encode(&s->rs_resp, v, &resp);
    s->rs_state = SLOT_DONE;
    return 0;
}

/* ---- AlterConfigs, IncrementalAlterConfigs ---- */

/* Splits a list value into items (trimmed, empty ones dropped): their
 * count, or -1 when there are more than max or one is too long. */
static int list_items(const char *v, char items[][NAME_MAX_LEN + 1], int max)
{
    int n = 0;
    while (*v) {
        while (*v == ' ' || *v == ',')
            v++;
        size_t len = strcspn(v, ",");
        size_t t = len;
        while (t > 0 && v[t - 1] == ' ')
            t--;
        if (t > 0) {
            if (n == max || t > NAME_MAX_LEN)
                return -1;
            snprintf(items[n++], NAME_MAX_LEN + 1, "%.*s", (int)t, v);
        }
        v += len;
    }
    return n;
}

/* APPEND adds the items not yet present, SUBTRACT removes the items given,
 * starting from the current value or, when there is none, the setting's
 * built-in default (Kafka's rule). */
static int list_op(const char *cur, const char *arg, int op, char *out, size_t out_size)
{
    /* The loop's thread only: too large for its stack. */
    static char have[LIST_MAX][NAME_MAX_LEN + 1], give[LIST_MAX][NAME_MAX_LEN + 1];
    int nh = list_items(cur ? cur : "", have, LIST_MAX), ng = list_items(arg, give, LIST_MAX);
    out[0] = 0;
    if (nh < 0 || ng < 0)
        return -1;
    size_t len = 0;
    for (int pass = 0; pass < 2; pass++) {
        int n = pass == 0 ? nh : (op == CONFIG_OP_APPEND ? ng : 0);
        for (int i = 0; i < n; i++) {
            const char *item = pass == 0 ? have[i] : give[i];
            int in_give = 0, dup = 0;
            for (int j = 0; j < ng; j++)
                in_give |= strcmp(give[j], item) == 0;
            for (int j = 0; j < nh && pass == 1; j++)
                dup |= strcmp(have[j], item) == 0;
            if ((pass == 0 && op == CONFIG_OP_SUBTRACT && in_give) || dup)
                continue;
            int w = snprintf(out + len, out_size - len, "%s%s", len ? "," : "", item);
            if (w < 0 || (size_t)w >= out_size - len)
                return -1;
            len += (size_t)w;
        }
    }
    return 0;
}

/* New value of one setting in set (NULL value: removed). Returns KERR_*. */
static int apply_op(eddy_props_t *set, const eddy_cfg_def_t *d, const char *name,
                    const AlterableConfig *c, char *msg, size_t msg_size)
{
    char value[EDDY_CFG_TEXT_MAX * 2];
    if (c->Value.len >= (int32_t)sizeof value) {
        snprintf(msg, msg_size, "the value of %s has %d characters; at most %zu fit", name,
                 c->Value.len, sizeof value - 1);
        return KERR_INVALID_CONFIG;
    }
    if (c->Value.len >= 0)
        snprintf(value, sizeof value, "%.*s", c->Value.len, c->Value.ptr);
    switch (c->ConfigOperation) {
    case CONFIG_OP_SET:
        if (c->Value.len < 0) {
            snprintf(msg, msg_size, "Null value not supported for : %s", name);
            return KERR_INVALID_REQUEST;
        }
        break;
    case CONFIG_OP_DELETE: value[0] = 0; break;
    case CONFIG_OP_APPEND:
    case CONFIG_OP_SUBTRACT: {
        if (!is_list(d)) {
            snprintf(msg, msg_size,
                     "Config value %s is not allowed for config key: %s (not a list)",
                     c->ConfigOperation == CONFIG_OP_APPEND ? "append" : "subtract", name);
            return KERR_INVALID_CONFIG;
        }
        if (c->Value.len < 0) {
            snprintf(msg, msg_size, "Null value not supported for : %s", name);
            return KERR_INVALID_REQUEST;
        }
        const char *cur = eddy_props_get(set, name);
        char arg[sizeof value];
        snprintf(arg, sizeof arg, "%s", value);
        if (list_op(cur ? cur : d->cd_default, arg, c->ConfigOperation, value, sizeof value) < 0) {
            snprintf(msg, msg_size,
                     "the new value of %s is too long (at most %d items of %d "
                     "characters, %zu in all)",
                     name, LIST_MAX, NAME_MAX_LEN, sizeof value - 1);
            return KERR_INVALID_CONFIG;
        }
        break;
    }
    default:
        snprintf(msg, msg_size,
                 "unknown config operation %d for %s (SET 0, DELETE 1, APPEND 2, "
                 "SUBTRACT 3)",
                 c->ConfigOperation, name);
        return KERR_INVALID_REQUEST;
    }
    /* Rebuilt without the old entry: the set has no removal. */
    eddy_props_t next;
    eddy_props_init(&next);
    int rc = 0;
    for (size_t i = 0; i < set->ps_count && rc == 0; i++) {
        if (strcmp(set->ps_items[i].pr_key, name) == 0)
            continue;
        char assign[8192];
        snprintf(assign, sizeof assign, "%s=%s", set->ps_items[i].pr_key,
                 set->ps_items[i].pr_value);
        rc = eddy_props_set(&next, "AlterConfigs", assign, msg, msg_size);
    }
    if (rc == 0 && c->ConfigOperation != CONFIG_OP_DELETE) {
        char assign[8192];
        snprintf(assign, sizeof assign, "%s=%s", name, value);
        rc = eddy_props_set(&next, "AlterConfigs", assign, msg, msg_size);
    }
    if (rc) {
        eddy_props_free(&next);
        return KERR_UNKNOWN_SERVER_ERROR;
    }
    eddy_props_free(set);
    *set = next;
    return KERR_NONE;
}

static int copy_props(eddy_props_t *to, const eddy_props_t *from, char *msg, size_t msg_size)
{
    eddy_props_init(to);
    for (size_t i = 0; i < from->ps_count; i++) {
        char assign[8192];
        snprintf(assign, sizeof assign, "%s=%s", from->ps_items[i].pr_key,
                 from->ps_items[i].pr_value);
        if (eddy_props_set(to, "AlterConfigs", assign, msg, msg_size))
            return KERR_UNKNOWN_SERVER_ERROR;
    }
    return KERR_NONE;
}

/* The resource's settings after the request's changes, in *set (started
 * from a copy of current unless the whole set is replaced). */
static int build_set(const eddy_cfg_def_t *defs, int broker, const AlterConfigsResource *r,
                     const eddy_props_t *current, int incremental, eddy_props_t *set, char *msg,
                     size_t msg_size)
{
    int err = incremental ? copy_props(set, current, msg, msg_size)
                          : (eddy_props_init(set), KERR_NONE);
    for (int32_t j = 0; j < r->ConfigsCount && err == KERR_NONE; j++) {
        const AlterableConfig *c = &r->Configs[j];
        char name[NAME_MAX_LEN + 1];
        snprintf(name, sizeof name, "%.*s", c->Name.len > NAME_MAX_LEN ? NAME_MAX_LEN : c->Name.len,
                 c->Name.ptr);
        for (int32_t k = 0; k < j; k++)
            if (kstr_eq(r->Configs[k].Name, name)) {
                snprintf(msg, msg_size, "Error due to duplicate config keys: %s", name);
                return KERR_INVALID_REQUEST;
            }
        const eddy_cfg_def_t *d = eddy_cfg_find(defs, name);
        if (broker && (!d || !broker_config_is_dynamic(name))) {
            /* Kafka's answer for a setting that cannot change while the
             * broker runs. */
            snprintf(msg, msg_size, "Cannot update these configs dynamically: %s (%s)", name,
                     d ? "read-only: set it in the broker's configuration file and restart"
                       : "not a broker setting Eddy knows");
            return KERR_INVALID_REQUEST;
        }
        if (!d) {
            snprintf(msg, msg_size, "Unknown topic config name: %s", name);
            return KERR_INVALID_CONFIG;
        }
        err = apply_op(set, d, name, c, msg, msg_size);
    }
    return err;
}

static int16_t alter_one(eddy_broker_t *b, const AlterConfigsResource *r, int incremental,
                         int validate_only, char *msg, size_t msg_size)
{
    eddy_props_t set;
    int err;
    if (r->ResourceType == CONFIG_RESOURCE_TOPIC) {
        topic_t *t = topics_find(&b->bk_topics, r->ResourceName.ptr, (size_t)r->ResourceName.len);
        if (!t) {
            snprintf(msg, msg_size, "topic '%.*s' does not exist",
                     r->ResourceName.len > 200 ? 200 : r->ResourceName.len, r->ResourceName.ptr);
            return KERR_UNKNOWN_TOPIC_OR_PARTITION;
        }
        err = build_set(log_config_defs, 0, r, &t->t_overrides, incremental, &set, msg, msg_size);
        if (err == KERR_NONE)
            err = topics_alter_config(&b->bk_topics, t, &set, validate_only, msg, msg_size);
        eddy_props_free(&set);
        return (int16_t)err;
    }
    if (r->ResourceType != CONFIG_RESOURCE_BROKER) {
        snprintf(msg, msg_size, "resource type %d cannot be altered (topic 2, broker 4)",
                 r->ResourceType);
        return KERR_INVALID_REQUEST;
    }
    int scope = broker_scope(b, r->ResourceName);
    if (scope < 0) {
        snprintf(msg, msg_size, "this broker is node %d", b->bk_cfg.broker_id);
        return KERR_INVALID_REQUEST;
    }
    eddy_props_t *cur = scope ? &b->bk_dyn_node : &b->bk_dyn_default;
    err = build_set(broker_config_defs, 1, r, cur, incremental, &set, msg, msg_size);
    if (err == KERR_NONE)
        err = dynamic_apply(b, scope ? &b->bk_dyn_default : &set, scope ? &set : &b->bk_dyn_node, 1,
                            msg, msg_size);
    if (err == KERR_NONE && !validate_only) {
        int rc = dynamic_write(b, scope ? &b->bk_dyn_default : &set,
                               scope ? &set : &b->bk_dyn_node);
        if (rc < 0) {
            snprintf(msg, msg_size, "cannot write %s/%s: %s", b->bk_cfg.log_dirs, DYNAMIC_FILE,
                     eddy_strerror(rc));
            err = KERR_KAFKA_STORAGE_ERROR;
        }
    }
    if (err == KERR_NONE && !validate_only) {
        eddy_props_t old = *cur;
        *cur = set;
        set = old;
        err = dynamic_apply(b, &b->bk_dyn_default, &b->bk_dyn_node, 0, msg, msg_size);
        EDDY_LOG_INFO("broker", "dynamic broker settings (%s) altered: %zu set",
                      scope ? "this node" : "cluster default", cur->ps_count);
    }
    eddy_props_free(&set);
    return (int16_t)err;
}

static int handle_alter(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd, int api_key)
{
    AlterConfigsRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    eddy_arena_t *a = &s->rs_out;
    int rc = wire_alter_configs_req_decode(rd, api_key, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    AlterConfigsResponse resp = {0, NULL, req.ResourcesCount};
    resp.Responses = resp_array(a, req.ResourcesCount, sizeof *resp.Responses);
    if (!resp.Responses)
        return -ENOMEM;
    for (int32_t i = 0; i < req.ResourcesCount; i++) {
        const AlterConfigsResource *r = &req.Resources[i];
        AlterConfigsResourceResponse *out = &resp.Responses[i];
        out->ResourceType = r->ResourceType;
        out->ResourceName = r->ResourceName;
        out->ErrorMessage = KSTR_NULL;
        char msg[600] = "";
        if ((out->ErrorCode = config_denied(b, s, ACL_OP_ALTER_CONFIGS, r->ResourceType,
                                            r->ResourceName)) != KERR_NONE)
            continue;
        out->ErrorCode = alter_one(b, r, api_key == API_INCREMENTAL_ALTER_CONFIGS, req.ValidateOnly,
                                   msg, sizeof msg);
        if (out->ErrorCode != KERR_NONE) {
            out->ErrorMessage = kstr_arena(a, msg);
            static eddy_log_limit_t refused = EDDY_LOG_LIMIT_INIT;
            EDDY_LOG_LIMITED(EDDY_LOG_LVL_INFO, "broker", &refused, 10000,
                             "%s of %.*s refused: %s: %s", kafka_api_name(api_key),
                             r->ResourceName.len > 200 ? 200 : r->ResourceName.len,
                             r->ResourceName.ptr, kafka_err_name(out->ErrorCode), msg);
        }
    }
    wire_alter_configs_resp_encode(&s->rs_resp, api_key, v, &resp);
    s->rs_state = SLOT_DONE;
    return 0;
}

int handle_alter_configs(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    return handle_alter(b, s, rd, API_ALTER_CONFIGS);
}

int handle_incremental_alter_configs(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    return handle_alter(b, s, rd, API_INCREMENTAL_ALTER_CONFIGS);
}
