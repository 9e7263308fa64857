/* Clocks. Wall time (ms since the epoch) is what Kafka timestamps use;
 * monotonic time is for timeouts and measuring durations. */
#ifndef EDDY_COMMON_CLOCK_H
#define EDDY_COMMON_CLOCK_H

#include <stdint.h>

int64_t eddy_wall_ms(void);  /* CLOCK_REALTIME, milliseconds since 1970 */
int64_t eddy_mono_ms(void);  /* CLOCK_MONOTONIC, milliseconds */
int64_t eddy_mono_ns(void);  /* CLOCK_MONOTONIC, nanoseconds */

#endif
