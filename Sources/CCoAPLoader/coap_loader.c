/* Calls from wharfd into libcoap go through the functions defined at the end of this file,
 * which have libcoap's names and prototypes and jump through pointers that dlsym fills when
 * the first CoAP adapter starts (wharf_coap_load). wharfd is not linked with libcoap. */

#include "coap_loader.h"

#include <coap3/coap.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The pointers, named wharf_coap_ptr_<function>. */
#define WHARF_COAP_FN(ret, name, params, args) static ret(*wharf_coap_ptr_##name) params;
#define WHARF_COAP_VOID(name, params, args) static void(*wharf_coap_ptr_##name) params;
#include "coap_functions.h"
#undef WHARF_COAP_FN
#undef WHARF_COAP_VOID

/* Each function's name and the pointer dlsym fills (POSIX allows a function pointer to be
 * written through a void * from dlsym). */
struct wharf_coap_entry {
  const char *name;
  void **slot;
};
static const struct wharf_coap_entry wharf_coap_table[] = {
#define WHARF_COAP_FN(ret, name, params, args) {#name, (void **)&wharf_coap_ptr_##name},
#define WHARF_COAP_VOID(name, params, args) {#name, (void **)&wharf_coap_ptr_##name},
#include "coap_functions.h"
#undef WHARF_COAP_FN
#undef WHARF_COAP_VOID
};
#define WHARF_COAP_COUNT (sizeof(wharf_coap_table) / sizeof(wharf_coap_table[0]))

/* Opens `soname` and resolves every function into `found` (NULL: only checks). Returns the
 * handle, or NULL with a message in `error`. */
static void *wharf_coap_open(const char *soname, void **found, char *error, size_t size) {
  void *handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (handle == NULL) {
    const char *reason = dlerror();
    snprintf(error, size, "cannot load libcoap (%s): %s; is the package libcoap3 installed?", soname,
             reason != NULL ? reason : "unknown error");
    return NULL;
  }
  for (size_t i = 0; i < WHARF_COAP_COUNT; i++) {
    void *function = dlsym(handle, wharf_coap_table[i].name);
    if (function == NULL) {
      snprintf(error, size, "%s has no function %s: libcoap 4.3.1 or later is needed", soname,
               wharf_coap_table[i].name);
      dlclose(handle);
      return NULL;
    }
    if (found != NULL) found[i] = function;
  }
  return handle;
}

static pthread_once_t wharf_coap_once = PTHREAD_ONCE_INIT;
/* Set once, inside pthread_once, which orders it before every return from pthread_once. */
static int wharf_coap_state = -1;
static char wharf_coap_error[512];
/* Set with release order after every pointer is filled: a function that sees it set sees
 * the pointers. */
static int wharf_coap_ready;

static void wharf_coap_load_once(void) {
  void *found[WHARF_COAP_COUNT];
  if (wharf_coap_open(WHARF_COAP_SONAME, found, wharf_coap_error, sizeof(wharf_coap_error)) == NULL) return;
  /* The handle stays open for the life of the process. */
  for (size_t i = 0; i < WHARF_COAP_COUNT; i++) *wharf_coap_table[i].slot = found[i];
  wharf_coap_state = 0;
  __atomic_store_n(&wharf_coap_ready, 1, __ATOMIC_RELEASE);
}

int wharf_coap_load(const char **error) {
  pthread_once(&wharf_coap_once, wharf_coap_load_once);
  if (wharf_coap_state != 0 && error != NULL) *error = wharf_coap_error;
  return wharf_coap_state;
}

int wharf_coap_probe(const char *soname, char *error, size_t size) {
  void *handle = wharf_coap_open(soname, NULL, error, size);
  if (handle == NULL) return -1;
  dlclose(handle);
  return 0;
}

/* Every caller loads first (the CoAP server's start does, and reports a failure as the
 * adapter's error); a call before that loads here, and a libcoap that cannot be loaded then
 * is a bug in wharfd, not an input, so it stops the process with the reason. */
static inline void wharf_coap_require(void) {
  if (__builtin_expect(__atomic_load_n(&wharf_coap_ready, __ATOMIC_ACQUIRE), 1)) return;
  const char *error = NULL;
  if (wharf_coap_load(&error) != 0) {
    fprintf(stderr, "wharfd: libcoap called before it was loaded: %s\n", error);
    abort();
  }
}

/* libcoap's functions, hidden: they serve wharfd's own calls and are not exported, so that
 * libcoap's calls to itself still reach libcoap. */
#define WHARF_COAP_FN(ret, name, params, args)                  \
  __attribute__((visibility("hidden"))) ret name params {       \
    wharf_coap_require();                                       \
    return wharf_coap_ptr_##name args;                          \
  }
#define WHARF_COAP_VOID(name, params, args)                     \
  __attribute__((visibility("hidden"))) void name params {      \
    wharf_coap_require();                                       \
    wharf_coap_ptr_##name args;                                 \
  }
#include "coap_functions.h"
#undef WHARF_COAP_FN
#undef WHARF_COAP_VOID
