/*
 * The load client of the CoAP ingest benchmark (scripts/bench-coap.sh): several libcoap client
 * sessions, each from its own UDP port, each keeping a fixed number of confirmable POSTs in
 * flight; a response sends the next request at once. It counts the 2.04 Changed responses that
 * arrive during a measured interval after a warm-up, and prints one JSON line:
 *
 *   {"completed": N, "seconds": S, "rate": N/S, "other": ..., "timeouts": ..., "cpu_seconds": ...}
 *
 *   cc -O2 -o load_client load_client.c $(pkg-config --cflags --libs libcoap-3-openssl)
 *   ./load_client --port 5683 --sessions 4 --inflight 8 --seconds 10
 *
 * Options (defaults in brackets): --host [127.0.0.1] --port [5683] --path [t/bench]
 * --sessions [4] --inflight [8] per session --seconds [10] --warmup [2] --payload [32] bytes
 * --content-format [0]; -1 sends no Content-Format.
 */
#include <coap3/coap.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

typedef struct {
    const char *host;
    const char *port;
    const char *path;
    int sessions;
    int inflight;
    double seconds;
    double warmup;
    size_t payload;
    int content_format;
} options_t;

static options_t options = {"127.0.0.1", "5683", "t/bench", 4, 8, 10.0, 2.0, 32, 0};
static unsigned long long completed = 0;  /* 2.04 responses */
static unsigned long long other = 0;      /* any other response code */
static unsigned long long timeouts = 0;   /* requests given up after every retransmission */
static unsigned long long sent = 0;
static int stopping = 0;
static uint8_t *payload = NULL;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_seconds(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 + (double)usage.ru_stime.tv_sec +
           (double)usage.ru_stime.tv_usec / 1e6;
}

/* One confirmable POST to options.path on `session`; 0 when libcoap refused it. */
static int send_request(coap_session_t *session) {
    coap_pdu_t *pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_POST, coap_new_message_id(session),
                                    coap_session_max_pdu_size(session));
    if (pdu == NULL) {
        return 0;
    }
    uint8_t token[8];
    size_t token_length = 0;
    coap_session_new_token(session, &token_length, token);
    coap_add_token(pdu, token_length, token);
    const char *segment = options.path;
    while (*segment != '\0') {
        const char *end = strchr(segment, '/');
        size_t length = end == NULL ? strlen(segment) : (size_t)(end - segment);
        if (length > 0) {
            coap_add_option(pdu, COAP_OPTION_URI_PATH, length, (const uint8_t *)segment);
        }
        segment += length + (end == NULL ? 0 : 1);
    }
    if (options.content_format >= 0) {
        uint8_t buffer[4];
        coap_add_option(pdu, COAP_OPTION_CONTENT_FORMAT,
                        coap_encode_var_safe(buffer, sizeof buffer, (unsigned)options.content_format), buffer);
    }
    /* Each payload differs (a sequence number), as real readings do. */
    snprintf((char *)payload, options.payload + 1, "%0*llu", (int)options.payload, sent);
    coap_add_data(pdu, options.payload, payload);
    if (coap_send(session, pdu) == COAP_INVALID_MID) {
        return 0;
    }
    sent++;
    return 1;
}

static coap_response_t on_response(coap_session_t *session, const coap_pdu_t *request, const coap_pdu_t *response,
                                   const coap_mid_t mid) {
    (void)request;
    (void)mid;
    if (coap_pdu_get_code(response) == COAP_RESPONSE_CODE_CHANGED) {
        completed++;
    } else {
        other++;
    }
    if (!stopping) {
        send_request(session);
    }
    return COAP_RESPONSE_OK;
}

static void on_nack(coap_session_t *session, const coap_pdu_t *request, const coap_nack_reason_t reason,
                    const coap_mid_t mid) {
    (void)request;
    (void)mid;
    if (reason == COAP_NACK_TOO_MANY_RETRIES || reason == COAP_NACK_ICMP_ISSUE) {
        timeouts++;
        if (!stopping) {
            send_request(session);
        }
    }
}

static void usage(const char *name) {
    fprintf(stderr,
            "usage: %s [--host H] [--port P] [--path P] [--sessions N] [--inflight N] [--seconds S] "
            "[--warmup S] [--payload BYTES] [--content-format N]\n",
            name);
    exit(2);
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc) {
            usage(argv[0]);
        }
        const char *key = argv[i], *value = argv[++i];
        if (strcmp(key, "--host") == 0) {
            options.host = value;
        } else if (strcmp(key, "--port") == 0) {
            options.port = value;
        } else if (strcmp(key, "--path") == 0) {
            options.path = value;
        } else if (strcmp(key, "--sessions") == 0) {
            options.sessions = atoi(value);
        } else if (strcmp(key, "--inflight") == 0) {
            options.inflight = atoi(value);
        } else if (strcmp(key, "--seconds") == 0) {
            options.seconds = atof(value);
        } else if (strcmp(key, "--warmup") == 0) {
            options.warmup = atof(value);
        } else if (strcmp(key, "--payload") == 0) {
            options.payload = (size_t)atol(value);
        } else if (strcmp(key, "--content-format") == 0) {
            options.content_format = atoi(value);
        } else {
            usage(argv[0]);
        }
    }
    if (options.sessions < 1 || options.inflight < 1 || options.seconds <= 0 || options.payload < 1) {
        usage(argv[0]);
    }
    payload = malloc(options.payload + 1);

    coap_startup();
    coap_set_log_level(LOG_ERR);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST};
    struct addrinfo *found = NULL;
    if (getaddrinfo(options.host, options.port, &hints, &found) != 0 || found == NULL) {
        fprintf(stderr, "load_client: cannot resolve %s:%s\n", options.host, options.port);
        return 1;
    }
    coap_address_t server;
    coap_address_init(&server);
    server.size = (socklen_t)found->ai_addrlen;
    memcpy(&server.addr, found->ai_addr, found->ai_addrlen);
    freeaddrinfo(found);

    coap_context_t *context = coap_new_context(NULL);
    if (context == NULL) {
        return 1;
    }
    coap_context_set_block_mode(context, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
    coap_register_response_handler(context, on_response);
    coap_register_nack_handler(context, on_nack);
    coap_session_t **sessions = calloc((size_t)options.sessions, sizeof *sessions);
    for (int s = 0; s < options.sessions; s++) {
        sessions[s] = coap_new_client_session(context, NULL, &server, COAP_PROTO_UDP);
        if (sessions[s] == NULL) {
            fprintf(stderr, "load_client: cannot open session %d\n", s);
            return 1;
        }
        /* RFC 7252's NSTART is 1; a gateway's devices are many clients, each with one or a few
         * requests outstanding. Several in flight per session stand for several devices. */
        coap_session_set_nstart(sessions[s], (uint16_t)options.inflight);
        for (int r = 0; r < options.inflight; r++) {
            send_request(sessions[s]);
        }
    }

    double start = now(), measure_from = start + options.warmup, end = measure_from + options.seconds;
    unsigned long long completed_at_start = 0, other_at_start = 0, timeouts_at_start = 0;
    double cpu_at_start = 0, measured_from = 0;
    int measuring = 0;
    while (1) {
        double t = now();
        if (!measuring && t >= measure_from) {
            measuring = 1;
            measured_from = t;
            completed_at_start = completed;
            other_at_start = other;
            timeouts_at_start = timeouts;
            cpu_at_start = cpu_seconds();
        }
        if (t >= end) {
            break;
        }
        coap_io_process(context, 50);
    }
    double measured = now() - measured_from;
    double cpu = cpu_seconds() - cpu_at_start;
    unsigned long long done = completed - completed_at_start;
    stopping = 1;
    printf("{\"completed\": %llu, \"seconds\": %.3f, \"rate\": %.1f, \"other\": %llu, \"timeouts\": %llu, "
           "\"cpu_seconds\": %.3f, \"sessions\": %d, \"inflight\": %d, \"payload\": %zu, \"total_sent\": %llu}\n",
           done, measured, (double)done / measured, other - other_at_start, timeouts - timeouts_at_start, cpu,
           options.sessions, options.inflight, options.payload, sent);
    fflush(stdout);
    for (int s = 0; s < options.sessions; s++) {
        coap_session_release(sessions[s]);
    }
    coap_free_context(context);
    coap_cleanup();
    free(sessions);
    free(payload);
    return done > 0 ? 0 : 1;
}
