/* Embedding the Eddy broker: the same server `eddy broker` runs, in your
 * process. Settings use Kafka's server.properties names.
 *
 *   eddy_broker_t *b = eddy_broker_new(&props, errstr, sizeof errstr);
 *   eddy_broker_run(b);          // serves until eddy_broker_stop() or SIGTERM/SIGINT
 *   eddy_broker_destroy(b);
 */
#ifndef EDDY_BROKER_PUBLIC_H
#define EDDY_BROKER_PUBLIC_H

#include <stddef.h>

#include "common/config.h"

typedef struct eddy_broker eddy_broker_t;

/* Loads the settings, opens and recovers the data directory and binds the
 * listener. NULL with a sentence in errstr on failure. */
eddy_broker_t *eddy_broker_new(const eddy_props_t *props, char *errstr, size_t errstr_size);
/* Serves on the calling thread. handle_signals: stop on SIGTERM/SIGINT.
 * Returns 0 after a clean stop. */
int eddy_broker_run(eddy_broker_t *b, int handle_signals);
/* Asks a running broker to stop; safe from any thread or a signal handler. */
void eddy_broker_stop(eddy_broker_t *b);
/* The port bound (useful with port 0). */
int eddy_broker_port(const eddy_broker_t *b);
void eddy_broker_destroy(eddy_broker_t *b);

#endif
