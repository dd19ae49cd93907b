#ifndef WHARF_CLIBYAML_SHIM_H
#define WHARF_CLIBYAML_SHIM_H

/* libyaml (Debian's libyaml-0-2): the scanner and parser that read wharf.yaml. Wharf uses its
   event API only and composes the events itself (Sources/WharfConfig/YAML). */
#include <yaml.h>

#endif
