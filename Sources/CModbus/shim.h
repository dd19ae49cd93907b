#ifndef WHARF_CMODBUS_SHIM_H
#define WHARF_CMODBUS_SHIM_H

#include <errno.h>
#include <modbus.h>

/* libmodbus reports Modbus exceptions and its own failures as errno values built by macros
   that do not import into Swift; these give them names Swift can call. */
static inline int wharf_modbus_enobase(void) { return MODBUS_ENOBASE; }
static inline int wharf_modbus_exception_first(void) { return EMBXILFUN; }
static inline int wharf_modbus_exception_last(void) { return EMBXGTAR; }
static inline int wharf_modbus_bad_crc(void) { return EMBBADCRC; }
static inline int wharf_modbus_bad_data(void) { return EMBBADDATA; }
static inline int wharf_modbus_bad_exception(void) { return EMBBADEXC; }
static inline int wharf_modbus_unknown_exception(void) { return EMBUNKEXC; }
static inline int wharf_modbus_too_much_data(void) { return EMBMDATA; }
static inline int wharf_modbus_bad_slave(void) { return EMBBADSLAVE; }
static inline int wharf_modbus_errno(void) { return errno; }
static inline void wharf_modbus_set_errno(int value) { errno = value; }

#endif
