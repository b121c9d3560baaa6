// `seqrec`: a tiny launcher for `seqrec-core` beside it. LibTorch's OpenMP threads spin after
// each parallel region by default and then steal the cores OpenBLAS's own threads need
// (measured: a Beauty CCE epoch took 29.6 s spinning vs 17.2 s passive on 2 cores). libgomp
// reads OMP_WAIT_POLICY when it loads, so it must be set before LibTorch is loaded: this
// launcher links nothing heavy, sets it (unless the user did) and execs the real binary.
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  (void)argc;
  if (!std::getenv("OMP_WAIT_POLICY")) setenv("OMP_WAIT_POLICY", "passive", 1);
  char self[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    std::fprintf(stderr, "seqrec: error: cannot locate the seqrec binary (/proc/self/exe)\n");
    return 1;
  }
  self[n] = '\0';
  std::string core(self);
  core = core.substr(0, core.find_last_of('/') + 1) + "seqrec-core";
  execv(core.c_str(), argv);
  std::fprintf(stderr, "seqrec: error: cannot run %s: %s\n", core.c_str(), std::strerror(errno));
  return 1;
}
