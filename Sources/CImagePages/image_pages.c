#define _GNU_SOURCE
#include "image_pages.h"

#include <elf.h>
#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

struct wharf_image_release {
  long released;
  int found;
};

static int wharf_image_visit(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  struct wharf_image_release *result = data;
  /* The first object is the executable itself. */
  result->found = 1;
  uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *header = &info->dlpi_phdr[i];
    if (header->p_type != PT_LOAD || (header->p_flags & PF_W) != 0) continue;
    uintptr_t start = (uintptr_t)info->dlpi_addr + header->p_vaddr;
    uintptr_t end = start + header->p_memsz;
    /* Whole pages inside the segment only: a page it shares with a writable neighbour stays. */
    start = (start + page - 1) & ~(page - 1);
    end &= ~(page - 1);
    if (end <= start) continue;
    if (madvise((void *)start, end - start, MADV_DONTNEED) == 0) result->released += (long)(end - start);
  }
  return 1; /* stop after the executable */
}

long wharf_release_image_pages(void) {
  struct wharf_image_release result = {0, 0};
  dl_iterate_phdr(wharf_image_visit, &result);
  return result.found ? result.released : -1;
}
