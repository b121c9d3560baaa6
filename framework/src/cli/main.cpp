#include <unistd.h>

#include <cstdlib>

#include "seqrec/cli.h"

int main(int argc, char** argv) {
  // LibTorch's OpenMP threads spin after each parallel region by default and then steal the
  // cores OpenBLAS's own threads need (measured: a Beauty CCE epoch 29.6 s spinning vs 17.2 s
  // passive on 2 cores). The policy is read when libgomp loads, so set it and restart once.
  if (!std::getenv("OMP_WAIT_POLICY")) {
    setenv("OMP_WAIT_POLICY", "passive", 1);
    execv("/proc/self/exe", argv);  // on failure, carry on with the default policy
  }
  return seqrec::run_cli(std::vector<std::string>(argv + 1, argv + argc));
}
