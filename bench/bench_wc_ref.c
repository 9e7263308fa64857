/* bench_wc_ref: the reference of bench_streams.sh. A plain single-threaded
 * in-memory word count of a file: a word is a maximal run of ASCII letters
 * and digits, lower-cased (examples/wordcount.c's definition); counts go to
 * an open-addressing hash map (FNV-1a). Prints one line:
 *
 *   words N distinct D seconds S words/s R
 *
 *   bench_wc_ref FILE [ROUNDS]
 *
 * The file is read into memory once, outside the timing; each round counts
 * from scratch; the figure is the fastest round (default 3 rounds).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    char *word; /* NULL: empty slot */
    uint32_t len;
    uint64_t hash;
    int64_t count;
} slot_t;

static slot_t *tab;
static size_t cap, used;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void grow(void)
{
    size_t ncap = cap ? cap * 2 : 1024;
    slot_t *n = calloc(ncap, sizeof *n);
    if (!n) {
        perror("calloc");
        exit(1);
    }
    for (size_t i = 0; i < cap; i++) {
        if (!tab[i].word)
            continue;
        size_t j = tab[i].hash & (ncap - 1);
        while (n[j].word)
            j = (j + 1) & (ncap - 1);
        n[j] = tab[i];
    }
    free(tab);
    tab = n;
    cap = ncap;
}

static void add(const char *w, uint32_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (uint32_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)w[i]) * 1099511628211ULL;
    if ((used + 1) * 2 > cap)
        grow();
    size_t j = h & (cap - 1);
    while (tab[j].word) {
        if (tab[j].hash == h && tab[j].len == len && !memcmp(tab[j].word, w, len)) {
            tab[j].count++;
            return;
        }
        j = (j + 1) & (cap - 1);
    }
    tab[j].word = malloc(len);
    if (!tab[j].word) {
        perror("malloc");
        exit(1);
    }
    memcpy(tab[j].word, w, len);
    tab[j].len = len;
    tab[j].hash = h;
    tab[j].count = 1;
    used++;
}

static void reset(void)
{
    for (size_t i = 0; i < cap; i++)
        free(tab[i].word);
    free(tab);
    tab = NULL;
    cap = used = 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE [ROUNDS]\n", argv[0]);
        return 2;
    }
    int rounds = argc > 2 ? atoi(argv[2]) : 3;
    if (rounds < 1)
        rounds = 1;
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)sz + 1);
    if (!buf || fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
        perror("read");
        return 1;
    }
    fclose(f);

    double best = 1e99;
    int64_t words = 0;
    size_t distinct = 0;
    for (int r = 0; r < rounds; r++) {
        reset();
        words = 0;
        double t0 = now_s();
        char w[256];
        uint32_t n = 0;
        for (long i = 0; i <= sz; i++) {
            int c = i < sz ? (unsigned char)buf[i] : ' ';
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
                if (n < sizeof w)
                    w[n] = (char)c;
                n++;
            } else if (c >= 'A' && c <= 'Z') {
                if (n < sizeof w)
                    w[n] = (char)(c - 'A' + 'a');
                n++;
            } else if (n > 0) {
                add(w, n < sizeof w ? n : (uint32_t)sizeof w);
                words++;
                n = 0;
            }
        }
        double dt = now_s() - t0;
        if (dt < best)
            best = dt;
        distinct = used;
    }
    printf("words %lld distinct %zu seconds %.4f words/s %.0f\n", (long long)words, distinct, best,
           best > 0 ? (double)words / best : 0.0);
    reset();
    free(buf);
    return 0;
}
