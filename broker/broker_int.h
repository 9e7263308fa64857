/* Private to broker/: the server's structures, shared by server.c (network,
 * framing, ordering, background work) and the request handlers. */
#ifndef EDDY_BROKER_INT_H
#define EDDY_BROKER_INT_H

#include <uv.h>

#include "broker/acl.h"
#include "broker/config.h"
#include "broker/group.h"
#include "broker/topics.h"
#include "broker/txn_coordinator.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/tls.h"
#include "include/eddy_broker.h"
#include "wire/api.h"
#include "wire/frame.h"
#include "wire/proto.h"

#define BROKER_CHUNK_POOL 32 /* spare chunk buffers kept (server.c) */

typedef struct conn conn_t;
typedef struct req_slot req_slot_t;
typedef struct broker_listener broker_listener_t;
typedef struct create_job create_job_t;
typedef struct sasl_conn sasl_conn_t;

/* Records of a response that stay in their segment file until written: the
 * response's own bytes up to rp_at are followed on the wire by the slice's
 * sl_len bytes, read a chunk at a time by the writer (server.c). The slice
 * keeps its segment open even if the segment is deleted meanwhile, and the
 * partition's topic is held so its log outlives a topic deletion. */
typedef struct resp_part {
    size_t rp_at;         /* offset in rs_resp where the slice's bytes go */
    log_slice_t rp_sl;    /* released once read to its end (rp_part NULL) */
    partition_t *rp_part; /* its topic held until then */
} resp_part_t;

/* One request on a connection, answered in arrival order.
 *
 *   NEW --handler--> DONE --written in order--> freed
 *     \--(fetch waits)--> WAITING --data or timeout--> DONE
 *     \--(acks=0)--> SILENT (no response; freed in order)
 */
enum slot_state { SLOT_NEW, SLOT_WAITING, SLOT_DONE, SLOT_SILENT };

typedef void broker_slot_gone_fn(void *owner, req_slot_t *s);

struct req_slot {
    req_slot_t *rs_next;      /* next on the connection */
    req_slot_t *rs_wait_next; /* next in the broker's waiting fetches */
    conn_t *rs_conn;
    enum slot_state rs_state;
    uint8_t *rs_frame; /* owned request bytes (decoded views borrow them) */
    size_t rs_frame_len; /* also the bytes it holds of queued.max.request.bytes */
    RequestHeader rs_hdr;
    eddy_arena_t rs_arena; /* decoded request: bounded by the request's size */
    eddy_arena_t rs_out;   /* response arrays: sized by the broker's own data */
    eddy_wr_t rs_resp; /* 4-byte size, header, body (file slices spliced in) */
    resp_part_t *rs_parts; /* in rp_at order */
    int rs_nparts, rs_parts_cap;
    size_t rs_file_bytes; /* sum of their sl_len: response bytes not in memory */
    FetchRequest rs_fetch;
    size_t rs_resp_hdr_len; /* response bytes before the body (fetch rebuilds it) */
    int64_t rs_deadline_ms; /* waiting fetch */
    /* Deferred by a handler that answers later (broker_slot_defer): called
     * with rs_gone_owner if the connection closes first. */
    broker_slot_gone_fn *rs_gone;
    void *rs_gone_owner;
    int rs_dispatching; /* its handler is running (server.c, dispatch) */
    int rs_wait_create;     /* waiting for topic creates (handlers.c) */
    /* Fetch: per topic of the request, 1 when the principal may not read
     * it (decided once, when the request came); NULL when all may be. */
    uint8_t *rs_denied;
};

/* A connection takes another request only while (Kafka's channel
 * muting): fewer than CONN_INFLIGHT_MAX of its requests are unanswered, the
 * responses it holds (unwritten, or answered behind an unanswered one) are
 * under CONN_QUEUED_MAX, and the request pool has room for the frame it is
 * reading. Otherwise it is muted: bytes read wait in c_in,
 * and once that backlog is IN_MAX (64 KiB) the socket is not read
 * (uv_read_stop). Reading on up to that bound notices a client that closes
 * while its request waits.
 *
 *   TAKING --request held / responses queued / pool full--> MUTED
 *   MUTED --response written / memory released (bk_resume)--> TAKING
 */
/* An open listener (listeners): the socket, and what a client that came in
 * through it is told (Metadata, FindCoordinator and DescribeCluster answer
 * each client with its own listener's advertised address, as Kafka does). */
struct broker_listener {
    uv_tcp_t bl_tcp;   /* the bound socket; accepted by on_listener_readable, not libuv */
    uv_poll_t bl_poll; /* readable: connections wait */
    int bl_polling;    /* bl_poll initialised (closed with bl_tcp) */
    int bl_paused;     /* bl_poll stopped after an accept error, until the next tick */
    struct eddy_broker *bl_broker;
    const broker_listener_cfg_t *bl_cfg; /* name, protocol, bind address */
    int bl_open;                         /* bl_tcp initialised (closed with the broker) */
    int bl_port;                         /* bound (port 0 in listeners: the one given) */
    char bl_adv_host[256];
    int bl_adv_port;
    eddy_tls_ctx_t *bl_tls;              /* SSL and SASL_SSL listeners, else NULL */
};

/* The server-side TLS context of an SSL or SASL_SSL listener from its ssl.*
 * settings in props (listener_tls.c). NULL with a sentence naming the
 * listener and the file at fault. */
eddy_tls_ctx_t *broker_listener_tls_ctx(const broker_listener_cfg_t *lc, const eddy_props_t *props,
                                        char *errstr, size_t errstr_size);

struct conn {
    uv_tcp_t c_tcp;
    struct eddy_broker *c_broker;
    const broker_listener_t *c_listener; /* the listener it came in on */
    /* TLS (SSL and SASL_SSL listeners): bytes read are decrypted before
     * framing and responses encrypted before uv_write; NULL on the others. */
    eddy_tls_t *c_tls;
    int64_t c_accept_ms; /* mono: the handshake must end within socket.request.timeout.ms */
    conn_t *c_next, *c_prev;
    char c_peer[96];
    char c_ip[64];
    /* Who the connection acts for, in Kafka's form "User:<name>": the
     * ANONYMOUS user until a TLS client certificate or a SASL login names
     * someone else. Authorization (ACLs, super.users) asks this. */
    char c_principal[256];
    sasl_conn_t *c_sasl; /* login state on a SASL listener (sasl.c), else NULL */
    int c_close_drained; /* closes once its responses are written (a failed login) */
    wire_frame_t c_fr;        /* the request being read; its buffer is request-pool memory */
    size_t c_pool_wait;       /* frame size waiting for pool memory, or 0 */
    int64_t c_frame_start_ms; /* when the frame being read began (mono) */
    int64_t c_active_ms;      /* last byte read or write finished (mono) */
    uint8_t *c_in;            /* read while muted, not yet taken (<= IN_MAX) */
    size_t c_in_off, c_in_len;
    req_slot_t *c_head, *c_tail;
    int c_nslots;     /* requests taken, not yet answered and written out */
    int c_closing;
    int c_reading;    /* uv_read_start is in effect */
    int c_writes;     /* uv_write requests in flight (one at a time) */
    size_t c_queued;  /* response bytes in memory handed to uv_write, not yet written */
    size_t c_wpos;    /* bytes of c_head's response already handed to uv_write */
    uint8_t *c_chunk; /* file bytes read for the write in flight (CHUNK_MAX) */
    size_t c_chunk_cap;
    int64_t c_requests;
};

/* Producer ids (producer_ids.c): a block is reserved durably in
 * <log.dirs>/producer_ids before its first id goes out, so no id is handed
 * out twice, across restarts and kill -9. Loop thread only. */
typedef struct broker_pids {
    char *pa_dir;
    int64_t pa_next;     /* next id to hand out */
    int64_t pa_reserved; /* ids below are reserved on disk */
} broker_pids_t;
/* Reads the file (missing: ids from 0). Returns 0, or an error with a
 * sentence in errstr (a corrupt file stops the start). */
int broker_pids_open(broker_pids_t *pa, const char *dir, char *errstr, size_t errstr_size);
/* The next id, reserving a block first when needed; 0 or the write error. */
int broker_pids_next(broker_pids_t *pa, int64_t *pid);
void broker_pids_close(broker_pids_t *pa);

struct eddy_broker {
    uv_loop_t bk_loop;
    broker_listener_t *bk_listeners; /* bk_cfg.nlisteners of them, in listeners' order */
    int bk_nlisteners;
    int bk_spare_fd; /* given up to accept and close clients when descriptors run out; -1: none */
    uv_signal_t bk_sigterm, bk_sigint;
    uv_async_t bk_stop_async;
    uv_timer_t bk_tick;
    uv_timer_t bk_fetch_timer;
    uv_timer_t bk_group_timer;
    group_coordinator_t *bk_groups;
    txn_coordinator_t *bk_txns;
    broker_config_t bk_cfg;
    eddy_props_t bk_static;      /* the settings given at start (file, --set) */
    eddy_props_t bk_dyn_default; /* dynamic settings, cluster-wide default (name "") */
    eddy_props_t bk_dyn_node;    /* dynamic settings of this node (name: its id) */
    topic_registry_t bk_topics;
    log_fdcache_t *bk_fdc;
    conn_t *bk_conns;
    int bk_nconns;
    int bk_fd_conns;        /* connections the open-file limit leaves room for */
    int bk_nofile;          /* that limit (RLIMIT_NOFILE), or -1 when unlimited */
    int64_t bk_pool_used;   /* request bytes held (queued.max.request.bytes) */
    int bk_pool_waiters;    /* connections waiting for pool memory */
    uv_idle_t bk_resume;    /* unmutes connections outside of callbacks that hold state */
    req_slot_t *bk_waiting; /* fetches waiting for data */
    create_job_t *bk_creates; /* topic creates running in slices (handlers.c) */
    int bk_stopping;
    int bk_work_inflight; /* flushes, compactions, deletions on the thread pool */
    int bk_flushes_running; /* flushes on the pool; more wait in the queue below */
    partition_t *bk_flush_head, *bk_flush_tail; /* partitions waiting for a flush */
    int bk_cleaning;      /* a compaction job is running */
    int64_t bk_last_retention_ms, bk_last_clean_ms;
    int64_t bk_last_pid_expiry_ms;
    broker_pids_t bk_pids;
    acl_authorizer_t *bk_acl; /* NULL: no authorizer.class.name, everything allowed */
    int bk_handle_signals;
    int bk_clean_next;    /* round-robin position of the compaction search */
    int bk_topics_closed;
    uint8_t *bk_chunks[BROKER_CHUNK_POOL]; /* the writer's spare chunk buffers */
    int bk_nchunks;
    struct broker_sasl *bk_sasl; /* SASL settings and the SCRAM credentials (sasl.c) */
};

/* The security protocol of the listener the connection came in on. */
static inline broker_secproto_t conn_secproto(const conn_t *c)
{
    return c->c_listener->bl_cfg->lc_proto;
}

/* Handlers: fill slot->rs_resp (after the response header) and set the
 * slot DONE, or leave it WAITING (fetch) / SILENT (acks=0). Return 0, or an
 * eddy_err when the request body is malformed (the connection closes). */
int handle_api_versions(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_metadata(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_produce(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_fetch(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_list_offsets(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_create_topics(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_delete_topics(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_describe_configs(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_alter_configs(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_incremental_alter_configs(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
/* Keeps the start-up settings and applies the dynamic ones saved in the
 * data directory (configs.c); before the topics are opened. */
int broker_dynamic_load(struct eddy_broker *b, const eddy_props_t *props, char *errstr,
                        size_t errstr_size);
void broker_dynamic_free(struct eddy_broker *b);
int handle_delete_records(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_init_producer_id(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_write_txn_markers(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
/* Consumer groups (group.c). */
int handle_find_coordinator(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_join_group(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_sync_group(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_heartbeat(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_leave_group(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_offset_commit(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_offset_fetch(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_txn_offset_commit(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_describe_groups(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_list_groups(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_delete_groups(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_offset_delete(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_create_partitions(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_describe_cluster(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_describe_acls(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_create_acls(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_delete_acls(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
/* Transactions (handlers_txn.c). */
int handle_add_partitions_to_txn(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_add_offsets_to_txn(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_end_txn(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_describe_transactions(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_list_transactions(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);

/* Authorization (handlers_acl.c): 1 if the request's principal, from its
 * connection's address, may do op (ACL_OP_*) on the resource, else 0.
 * Always 1 without an authorizer. A refusal is logged at INFO (limited);
 * the _quiet form does not log, for filtering what a principal may see
 * (Metadata's topics, ListGroups), as Kafka does not log those either.
 * A handler adds a check with one line, e.g. for a cluster-wide API:
 *   if (!broker_authorize_cluster(b, s, ACL_OP_ALTER))
 *       err = KERR_CLUSTER_AUTHORIZATION_FAILED; */
int broker_authorize(struct eddy_broker *b, req_slot_t *s, int op, int res_type, kstr_t name);
int broker_authorize_quiet(struct eddy_broker *b, req_slot_t *s, int op, int res_type, kstr_t name);
int broker_authorize_cluster(struct eddy_broker *b, req_slot_t *s, int op);
/* Opens the authorizer named by authorizer.class.name (none: bk_acl stays
 * NULL); an unknown class or a corrupt ACL file stops the start. */
int broker_acl_open(struct eddy_broker *b, char *errstr, size_t errstr_size);

/* Fetch: tries to answer a (possibly waiting) fetch; with force, answers
 * with whatever is there. Returns 1 when the slot is DONE. */
int fetch_try_answer(struct eddy_broker *b, req_slot_t *s, int force);

/* Server services for handlers. */
void broker_slot_done(req_slot_t *s);       /* writes out what is ready */
/* For handlers that answer a request later (the group coordinator's
 * JoinGroup and SyncGroup): the server owns the slot's state, a handler
 * only defers and answers. broker_slot_defer keeps the slot waiting after
 * its handler returns; gone(owner, s) is called if the connection closes
 * before the answer (the handler forgets s). broker_slot_answer, once the
 * response is encoded: a deferred slot is written out, one whose handler is
 * still running is written by the dispatcher when it returns. */
void broker_slot_defer(req_slot_t *s, broker_slot_gone_fn *gone, void *owner);
void broker_slot_answer(req_slot_t *s);
/* Splices slice sl (of partition p) into the response at its current end:
 * the response then owns the slice. Returns 0, or -ENOMEM with the slice
 * still the caller's. */
int broker_resp_add_slice(req_slot_t *s, partition_t *p, log_slice_t *sl);
/* Releases the slices spliced into a response (the response is rebuilt or freed). */
void broker_resp_drop_slices(req_slot_t *s);
void broker_wait_fetch(struct eddy_broker *b, req_slot_t *s);
void broker_data_arrived(struct eddy_broker *b); /* wake waiting fetches */
void broker_flush_partition(struct eddy_broker *b, partition_t *p);
/* Closes a connection at once, its slots freed (a failed SASL login). */
void broker_conn_close(conn_t *c);
void broker_delete_dir_later(const char *dir, void *opaque); /* opaque: broker */
/* Background work counted in bk_work_inflight is over (a stop may finish). */
void broker_work_done(struct eddy_broker *b);
/* A slot waiting for topic creates is freed with its connection. */
void broker_create_slot_gone(struct eddy_broker *b, req_slot_t *s);

/* A zeroed response array of n elements from the response arena: a response
 * answers each topic, partition, group or resource of its request in its
 * order. An empty array still gets room for one, so that NULL always means
 * out of memory. */
static inline void *resp_array(eddy_arena_t *a, int32_t n, size_t size)
{
    return arena_calloc(a, (size_t)(n ? n : 1), size);
}

/* Sets a response array field and its count together: arr gets n zeroed
 * elements, cnt = n. Evaluates to NULL when out of memory. */
#define RESP_ARRAY(a, arr, cnt, n) ((cnt) = (n), (arr) = resp_array((a), (cnt), sizeof *(arr)))

#endif
