#ifndef WHARF_CMODBUS_SHIM_H
#define WHARF_CMODBUS_SHIM_H

#include <modbus.h>

#endif
