// `seqrec-core`: the CLI proper (normally started through the `seqrec` launcher, which sets
// OMP_WAIT_POLICY=passive first; see launcher.cpp).
#include "seqrec/cli.h"

#ifdef __GLIBC__
#include <malloc.h>

#include <cstdlib>
#endif

int main(int argc, char** argv) {
#ifdef __GLIBC__
  // A training step allocates and frees the same few-MB activations every step. With glibc's
  // defaults they go to mmap or make the heap shrink and regrow, and every step then faults
  // its memory in again (measured on a Beauty ELECRec epoch: 1.25 M page faults and 1.8 s
  // of system time; with these settings 83 k and 0.2 s). Keep blocks below 32 MB on the
  // heap and never give its top back, unless the user set glibc's own variables.
  if (!std::getenv("MALLOC_MMAP_THRESHOLD_")) mallopt(M_MMAP_THRESHOLD, 32 << 20);
  if (!std::getenv("MALLOC_TRIM_THRESHOLD_")) mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
  return seqrec::run_cli(std::vector<std::string>(argv + 1, argv + argc));
}
