#ifndef WHARF_IMAGE_PAGES_H
#define WHARF_IMAGE_PAGES_H

#include <stddef.h>

/* Unmaps from this process the resident pages of the executable's read-only segments (its
 * code, and the read-only data the loader never writes), which start-up filled: they are
 * clean copies of the file, so the next use of one maps it again from the page cache (a
 * minor fault) with the same bytes. Writable and RELRO segments are left alone (their pages
 * hold relocated or changed data). Returns how many bytes of address range were released,
 * or -1 when the executable's program headers were not found. */
long wharf_release_image_pages(void);

#endif
