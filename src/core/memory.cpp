#include "deltacrit/core/memory.hpp"

#include <cstdlib>  // defines __GLIBC__ on glibc (features.h)

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace deltacrit::core {

bool keep_freed_memory() {
#if defined(__GLIBC__)
  // 32 MiB is glibc's upper limit for M_MMAP_THRESHOLD on 64-bit targets (larger values are refused).
  const bool mmap_ok = mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024) == 1;
  const bool trim_ok = mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024) == 1;
  return mmap_ok && trim_ok;
#else
  return false;
#endif
}

}  // namespace deltacrit::core
