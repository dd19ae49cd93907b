#ifndef WHARF_CCOAP_SHIM_H
#define WHARF_CCOAP_SHIM_H

#include <coap3/coap.h>

#endif
