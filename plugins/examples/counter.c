/*
 * counter: a Wharf plugin in plain C, with no JSON library.
 *
 * It shows that the plugin protocol (docs/plugins.md) needs nothing but lines on stdin and
 * stdout: it answers `init` with `ready`, publishes a counter at QoS 0 and at QoS 1 within its
 * credit, answers health pings and exits 0 on `shutdown`. It writes fixed-shape lines with
 * printf-style formatting and reads only the top-level members it needs from the host's lines.
 *
 *   counter [--topic PREFIX] [--interval-ms N] [--count N]
 *       every N ms (default 1000) publishes the next number to PREFIX/qos0 at QoS 0 and, when a
 *       credit is free, to PREFIX/qos1 at QoS 1 (PREFIX defaults to devices/counter);
 *       --count stops publishing after N numbers (the plugin keeps answering until shutdown).
 *   counter --bench N [--qos 0|1] [--topic TOPIC] [--payload-bytes B]
 *       load generator: writes N prepared publish lines on TOPIC (default bench/plugin) as fast
 *       as the pipe takes them, at QoS 1 within its credit, then waits for the answers and for
 *       shutdown. It writes nothing else.
 *
 * Build: make -C plugins/examples (cc -O2, see the Makefile there).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROTOCOL 1
#define OUT_CAPACITY (1 << 16)

static char out[OUT_CAPACITY]; /* lines waiting to be written to stdout */
static size_t out_len;
static char *in;                /* the line being read from stdin */
static size_t in_len, in_cap;
static int in_skipping;         /* discarding the rest of an overlong line */
static long credit;             /* QoS 1 publishes we may still send unanswered */
static long unanswered;

static void die(const char *message) {
    fprintf(stderr, "counter: %s\n", message);
    exit(2);
}

/* Write everything buffered; the pipe's back-pressure is the flow control of QoS 0. */
static void flush_out(void) {
    size_t done = 0;
    while (done < out_len) {
        ssize_t n = write(STDOUT_FILENO, out + done, out_len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) exit(0); /* the host closed the pipe: nothing left to do */
        done += (size_t)n;
    }
    out_len = 0;
}

static void emit(const char *data, size_t len) {
    if (out_len + len > sizeof out) flush_out();
    if (len > sizeof out) die("line too long");
    memcpy(out + out_len, data, len);
    out_len += len;
}

static void emitf(const char *format, ...) {
    char line[1024];
    va_list args;
    va_start(args, format);
    int n = vsnprintf(line, sizeof line, format, args);
    va_end(args);
    if (n < 0 || (size_t)n >= sizeof line) die("line too long");
    emit(line, (size_t)n);
}

/* --- a scanner for the few members we read ------------------------------------------------ */

static const char *skip_ws(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
    return p;
}

/* The end of the JSON value at p (string, object, array or scalar), NULL if malformed. */
static const char *skip_value(const char *p) {
    p = skip_ws(p);
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++)
            if (*p == '\\' && !*++p) return NULL;
        return *p ? p + 1 : NULL;
    }
    if (*p == '{' || *p == '[') {
        int depth = 0;
        for (; *p; p++) {
            if (*p == '"') {
                p = skip_value(p);
                if (!p) return NULL;
                p--;
            } else if (*p == '{' || *p == '[') depth++;
            else if ((*p == '}' || *p == ']') && --depth == 0) return p + 1;
        }
        return NULL;
    }
    while (*p && *p != ',' && *p != '}' && *p != ']') p++;
    return p;
}

/* The value of the top-level member `key` of the object at p, or NULL. */
static const char *member(const char *p, const char *key) {
    size_t key_len = strlen(key);
    p = skip_ws(p);
    if (*p++ != '{') return NULL;
    for (;;) {
        p = skip_ws(p);
        if (*p != '"') return NULL;
        const char *name = p + 1;
        const char *value = skip_value(p);
        if (!value) return NULL;
        int match = (size_t)(value - 1 - name) == key_len && memcmp(name, key, key_len) == 0;
        value = skip_ws(value);
        if (*value++ != ':') return NULL;
        value = skip_ws(value);
        if (match) return value;
        p = skip_value(value);
        if (!p) return NULL;
        p = skip_ws(p);
        if (*p++ != ',') return NULL;
    }
}

static long member_long(const char *object, const char *key, long fallback) {
    const char *value = member(object, key);
    return value && *value >= '0' && *value <= '9' ? strtol(value, NULL, 10) : fallback;
}

/* True when the member `key` is the string `want` (which needs no escapes). */
static int member_is(const char *object, const char *key, const char *want) {
    const char *value = member(object, key);
    size_t n = strlen(want);
    return value && *value == '"' && strncmp(value + 1, want, n) == 0 && value[n + 1] == '"';
}

/* --- reading the host's lines --------------------------------------------------------------- */

/* Handles one line from the host (after the handshake). */
static void handle(const char *line) {
    if (member_is(line, "type", "ack") || member_is(line, "type", "nack")) {
        if (unanswered > 0) { unanswered--; credit++; }
    } else if (member_is(line, "type", "health")) {
        emitf("{\"type\":\"health\",\"status\":\"healthy\",\"message\":\"\"}\n");
    } else if (member_is(line, "type", "shutdown")) {
        flush_out();
        exit(0);
    }
    /* commands and later types: nothing to do */
}

/* Reads what stdin has (waiting up to timeout_ms) and handles every complete line. */
static void read_lines(int timeout_ms, size_t max_line) {
    struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
    if (poll(&pfd, 1, timeout_ms) <= 0) return;
    char chunk[65536];
    ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) return;
    if (n <= 0) { flush_out(); exit(0); } /* EOF: the host is gone */
    for (ssize_t i = 0; i < n; i++) {
        char c = chunk[i];
        if (c == '\n') {
            if (!in_skipping) { in[in_len] = '\0'; handle(in); }
            in_len = 0;
            in_skipping = 0;
        } else if (in_skipping) {
            continue;
        } else if (in_len < max_line) {
            in[in_len++] = c;
        } else {
            in_skipping = 1; /* longer than max_line_bytes: not a line we could parse */
        }
    }
}

/* The first line (init), read a byte at a time so that nothing after it is consumed. */
static const char *read_first_line(void) {
    size_t len = 0;
    for (;;) {
        char c;
        ssize_t n = read(STDIN_FILENO, &c, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) exit(0);
        if (c == '\n') break;
        if (len < in_cap - 1) in[len++] = c;
    }
    in[len] = '\0';
    return in;
}

/* --- main ------------------------------------------------------------------------------------ */

static int safe_topic(const char *topic) {
    for (const char *p = topic; *p; p++)
        if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) return 0;
    return *topic != '\0';
}

int main(int argc, char **argv) {
    const char *topic = NULL;
    long interval_ms = 1000, count = -1, bench = -1, qos = 0, payload_bytes = 16;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!value) die("usage: counter [--topic T] [--interval-ms N] [--count N] | --bench N [--qos 0|1]");
        if (strcmp(arg, "--topic") == 0) topic = value;
        else if (strcmp(arg, "--interval-ms") == 0) interval_ms = atol(value);
        else if (strcmp(arg, "--count") == 0) count = atol(value);
        else if (strcmp(arg, "--bench") == 0) bench = atol(value);
        else if (strcmp(arg, "--qos") == 0) qos = atol(value);
        else if (strcmp(arg, "--payload-bytes") == 0) payload_bytes = atol(value);
        else die("unknown option");
        i++;
    }
    if (!topic) topic = bench >= 0 ? "bench/plugin" : "devices/counter";
    if (!safe_topic(topic)) die("the topic may not contain quotes, backslashes or control characters");
    if (qos < 0 || qos > 1 || payload_bytes < 0 || payload_bytes > 512) die("bad --qos or --payload-bytes");
    signal(SIGPIPE, SIG_IGN);

    /* Handshake: the first line must be init. */
    in_cap = 1048576 + 1;
    in = malloc(in_cap);
    if (!in) die("out of memory");
    const char *init = read_first_line();
    if (!member_is(init, "type", "init")) die("the first line from the host is not init");
    const char *range = member(init, "protocol");
    long low = range ? member_long(range, "min", 1) : 1, high = range ? member_long(range, "max", 1) : 1;
    credit = member_long(init, "credit", 1);
    size_t max_line = (size_t)member_long(init, "max_line_bytes", 1048576);
    if (PROTOCOL < low || PROTOCOL > high)
        emitf("{\"type\":\"log\",\"level\":\"error\",\"message\":\"counter speaks protocol %d; the host offers %ld to %ld\"}\n",
              PROTOCOL, low, high);
    if (max_line + 1 > in_cap) { /* after the last use of init, which lives in `in` */
        in_cap = max_line + 1;
        in = realloc(in, in_cap);
        if (!in) die("out of memory");
    }
    emitf("{\"type\":\"ready\",\"protocol\":%d,\"name\":\"counter\",\"version\":\"1.0.0\","
          "\"capabilities\":[\"credit\",\"health\"],\"subscriptions\":[]}\n", PROTOCOL);
    flush_out();

    char payload[513];
    memset(payload, 'x', (size_t)payload_bytes);
    payload[payload_bytes] = '\0';
    unsigned long long next = 0;

    if (bench >= 0 && qos == 0) {
        /* One block of identical prepared lines, written again and again. */
        char line[1024];
        int n = snprintf(line, sizeof line, "{\"type\":\"publish\",\"topic\":\"%s\",\"payload\":\"%s\"}\n", topic, payload);
        if (n < 0 || (size_t)n >= sizeof line) die("line too long");
        size_t per_block = sizeof out / (size_t)n;
        for (long sent = 0; sent < bench;) {
            for (size_t k = 0; k < per_block && sent < bench; k++, sent++) emit(line, (size_t)n);
            flush_out();
            read_lines(0, max_line); /* health pings, shutdown */
        }
    } else if (bench >= 0) {
        for (long sent = 0; sent < bench;) {
            while (credit > 0 && sent < bench) {
                emitf("{\"type\":\"publish\",\"id\":%llu,\"topic\":\"%s\",\"payload\":\"%s\",\"qos\":1}\n", ++next,
                      topic, payload);
                credit--, unanswered++, sent++;
            }
            flush_out();
            read_lines(credit > 0 ? 0 : -1, max_line);
        }
    } else {
        struct timespec due;
        clock_gettime(CLOCK_MONOTONIC, &due);
        for (;;) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            long wait = (due.tv_sec - now.tv_sec) * 1000 + (due.tv_nsec - now.tv_nsec) / 1000000;
            if (wait <= 0 && count != 0) {
                next++;
                emitf("{\"type\":\"publish\",\"topic\":\"%s/qos0\",\"payload\":\"%llu\"}\n", topic, next);
                if (credit > 0) {
                    emitf("{\"type\":\"publish\",\"id\":%llu,\"topic\":\"%s/qos1\",\"payload\":\"%llu\",\"qos\":1}\n",
                          next, topic, next);
                    credit--, unanswered++;
                }
                flush_out();
                if (count > 0) count--;
                due.tv_sec += interval_ms / 1000;
                due.tv_nsec += (interval_ms % 1000) * 1000000;
                if (due.tv_nsec >= 1000000000) due.tv_sec++, due.tv_nsec -= 1000000000;
                continue;
            }
            read_lines(count == 0 ? -1 : (int)(wait > 0 ? wait : 0), max_line);
            flush_out();
        }
    }
    for (;;) { /* done: answer until shutdown */
        read_lines(-1, max_line);
        flush_out();
    }
}
