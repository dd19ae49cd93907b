#ifndef WHARF_COAP_LOADER_H
#define WHARF_COAP_LOADER_H

#include <stddef.h>

/* libcoap is loaded when a CoAP adapter starts, not when wharfd starts: a gateway without a
 * CoAP adapter never maps libcoap, nor the OpenSSL libraries it links (about 1.7 MB of
 * resident memory at idle). */

/* The shared object loaded: Debian's libcoap3 with OpenSSL for DTLS. */
#define WHARF_COAP_SONAME "libcoap-3-openssl.so.3"

/* Loads libcoap once and resolves every function wharfd calls. Returns 0 when it is loaded
 * (now or before), -1 otherwise with `*error` set to a message naming the library and what
 * failed; later calls return the same result. Thread-safe. */
int wharf_coap_load(const char **error);

/* Tries to load `soname` and resolve every function, without keeping it: 0 on success, -1
 * with a message written to `error` (of `size` bytes) otherwise. For tests of the failure
 * messages. */
int wharf_coap_probe(const char *soname, char *error, size_t size);

#endif
