#ifndef WHARF_CCOAP_SHIM_H
#define WHARF_CCOAP_SHIM_H

#include <coap3/coap.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

/* COAP_RESPONSE_CODE(N) is a function-like macro: 404 -> 4.04 as a PDU code. */
static inline coap_pdu_code_t wharf_coap_code(unsigned int n) {
  return (coap_pdu_code_t)COAP_RESPONSE_CODE(n);
}

/* The class of a PDU code (2 for 2.04), COAP_RESPONSE_CLASS is a macro. */
static inline int wharf_coap_code_class(coap_pdu_code_t code) {
  return COAP_RESPONSE_CLASS(code);
}

/* Fills `out` from a numeric IPv4 or IPv6 address and a port; returns 0 on success. */
static inline int wharf_coap_address(const char *host, uint16_t port, coap_address_t *out) {
  struct addrinfo hints;
  struct addrinfo *result = NULL;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
  if (getaddrinfo(host, NULL, &hints, &result) != 0 || result == NULL) return -1;
  coap_address_init(out);
  if (result->ai_addrlen > sizeof(out->addr)) {
    freeaddrinfo(result);
    return -1;
  }
  memcpy(&out->addr, result->ai_addr, result->ai_addrlen);
  out->size = (socklen_t)result->ai_addrlen;
  freeaddrinfo(result);
  if (out->addr.sa.sa_family == AF_INET) {
    out->addr.sin.sin_port = htons(port);
  } else if (out->addr.sa.sa_family == AF_INET6) {
    out->addr.sin6.sin6_port = htons(port);
  } else {
    return -1;
  }
  return 0;
}

/* Resolves a host name (or address) for a client session; returns 0 on success. */
static inline int wharf_coap_resolve(const char *host, uint16_t port, coap_address_t *out) {
  struct addrinfo hints;
  struct addrinfo *result = NULL;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  if (getaddrinfo(host, NULL, &hints, &result) != 0 || result == NULL) return -1;
  coap_address_init(out);
  int ok = -1;
  if (result->ai_addrlen <= sizeof(out->addr)) {
    memcpy(&out->addr, result->ai_addr, result->ai_addrlen);
    out->size = (socklen_t)result->ai_addrlen;
    if (out->addr.sa.sa_family == AF_INET) {
      out->addr.sin.sin_port = htons(port);
      ok = 0;
    } else if (out->addr.sa.sa_family == AF_INET6) {
      out->addr.sin6.sin6_port = htons(port);
      ok = 0;
    }
  }
  freeaddrinfo(result);
  return ok;
}

/* Names the calling thread (shown by top -H and in core dumps). */
static inline void wharf_coap_thread_name(const char *name) {
  prctl(PR_SET_NAME, name, 0, 0, 0);
}

/* A non-blocking eventfd used to wake the libcoap thread. */
static inline int wharf_coap_eventfd(void) {
  return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

/* Adds one to the eventfd counter. */
static inline void wharf_coap_wake(int fd) {
  uint64_t one = 1;
  ssize_t written = write(fd, &one, sizeof(one));
  (void)written;
}

/* Resets the eventfd counter. */
static inline void wharf_coap_drain(int fd) {
  uint64_t value;
  ssize_t got = read(fd, &value, sizeof(value));
  (void)got;
}

/* Waits for either descriptor (b may be -1); returns a bit mask: 1 = a readable, 2 = b readable. */
static inline int wharf_coap_wait(int a, int b, int timeout_ms) {
  struct pollfd fds[2];
  fds[0].fd = a;
  fds[0].events = POLLIN;
  fds[0].revents = 0;
  fds[1].fd = b;
  fds[1].events = POLLIN;
  fds[1].revents = 0;
  int n = poll(fds, b >= 0 ? 2 : 1, timeout_ms);
  if (n <= 0) return 0;
  int mask = 0;
  if (fds[0].revents) mask |= 1;
  if (b >= 0 && fds[1].revents) mask |= 2;
  return mask;
}

/* Server PKI from PEM files. Client certificates are always required and verified against
 * `ca` (a PKI handshake without one fails: libcoap 4.3.1 then asks OpenSSL for
 * SSL_VERIFY_FAIL_IF_NO_PEER_CERT); with an empty `ca` no client certificate can verify at all.
 * `cn` is called for each certificate of a verified chain (depth 0: the client's own) and may
 * refuse it. libcoap keeps the path pointers, which must outlive the context. Returns 1 on success. */
static inline int wharf_coap_set_pki(coap_context_t *ctx, const char *cert, const char *key, const char *ca,
                                     coap_dtls_cn_callback_t cn, void *cn_arg) {
  coap_dtls_pki_t pki;
  memset(&pki, 0, sizeof(pki));
  pki.version = COAP_DTLS_PKI_SETUP_VERSION;
  int have_ca = ca != NULL && ca[0] != '\0';
  pki.verify_peer_cert = 1;
  pki.check_common_ca = have_ca ? 1 : 0;
  pki.allow_self_signed = 0;
  pki.allow_expired_certs = 0;
  pki.cert_chain_validation = 1;
  pki.cert_chain_verify_depth = 3;
  pki.check_cert_revocation = 0;
  pki.allow_no_crl = 1;
  pki.allow_expired_crl = 1;
  pki.validate_cn_call_back = cn;
  pki.cn_call_back_arg = cn_arg;
  pki.pki_key.key_type = COAP_PKI_KEY_PEM;
  pki.pki_key.key.pem.public_cert = cert;
  pki.pki_key.key.pem.private_key = key;
  pki.pki_key.key.pem.ca_file = have_ca ? ca : NULL;
  return coap_context_set_pki(ctx, &pki);
}

/* Adds `fd` to libcoap's epoll set with a NULL data pointer, which coap_io_do_epoll() ignores
 * (it is how libcoap marks its own timer), so one epoll_wait also wakes for `fd`. */
static inline int wharf_coap_epoll_add(int epfd, int fd) {
  struct epoll_event event;
  memset(&event, 0, sizeof(event));
  event.events = EPOLLIN;
  event.data.ptr = NULL;
  return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
}

/* What coap_io_process() does after coap_io_prepare_epoll(): wait up to `timeout_ms` (-1 for
 * ever) on libcoap's epoll descriptor and process what arrived. Returns -1 on error. */
static inline int wharf_coap_epoll_wait(coap_context_t *ctx, int epfd, int timeout_ms) {
  struct epoll_event events[64];
  int total = 0;
  int n;
  do {
    n = epoll_wait(epfd, events, 64, timeout_ms);
    if (n < 0) return errno == EINTR ? 0 : -1;
    coap_io_do_epoll(ctx, events, (size_t)n);
    total += n;
    timeout_ms = 0;
  } while (n == 64);
  return total;
}

#endif
