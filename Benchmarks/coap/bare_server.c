/*
 * The baseline of the CoAP ingest benchmark: a bare libcoap server that answers every POST to
 * /t/bench with 2.04 Changed and does nothing else. scripts/bench-coap.sh drives it and wharfd
 * with the same load client; Wharf's target is at least 80% of this server's rate.
 *
 *   cc -O2 -o bare_server bare_server.c $(pkg-config --cflags --libs libcoap-3-openssl)
 *   ./bare_server 127.0.0.1 5683
 *
 * Runs until SIGTERM or SIGINT. Like wharfd's adapter, it lets libcoap reassemble block-wise
 * requests (COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY).
 */
#include <coap3/coap.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t quit = 0;
static unsigned long long answered = 0;

static void on_signal(int signal_number) {
    (void)signal_number;
    quit = 1;
}

static void post_handler(coap_resource_t *resource, coap_session_t *session, const coap_pdu_t *request,
                         const coap_string_t *query, coap_pdu_t *response) {
    (void)resource;
    (void)session;
    (void)request;
    (void)query;
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_CHANGED);
    answered++;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s ADDRESS PORT\n", argv[0]);
        return 2;
    }
    coap_startup();
    coap_set_log_level(LOG_WARNING);

    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST};
    struct addrinfo *found = NULL;
    if (getaddrinfo(argv[1], argv[2], &hints, &found) != 0 || found == NULL) {
        fprintf(stderr, "bare_server: cannot resolve %s:%s\n", argv[1], argv[2]);
        return 1;
    }
    coap_address_t address;
    coap_address_init(&address);
    address.size = (socklen_t)found->ai_addrlen;
    memcpy(&address.addr, found->ai_addr, found->ai_addrlen);
    freeaddrinfo(found);

    coap_context_t *context = coap_new_context(NULL);
    if (context == NULL || coap_new_endpoint(context, &address, COAP_PROTO_UDP) == NULL) {
        fprintf(stderr, "bare_server: cannot listen on %s:%s\n", argv[1], argv[2]);
        return 1;
    }
    coap_context_set_block_mode(context, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
    coap_resource_t *resource = coap_resource_init(coap_make_str_const("t/bench"), 0);
    coap_register_handler(resource, COAP_REQUEST_POST, post_handler);
    coap_add_resource(context, resource);

    struct sigaction action = {.sa_handler = on_signal};
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    fprintf(stderr, "bare_server: listening on %s:%s\n", argv[1], argv[2]);
    while (!quit) {
        if (coap_io_process(context, 250) < 0) {
            break;
        }
    }
    fprintf(stderr, "bare_server: answered %llu requests\n", answered);
    coap_free_context(context);
    coap_cleanup();
    return 0;
}
