// `seqrec-core`: the CLI proper (normally started through the `seqrec` launcher, which sets
// OMP_WAIT_POLICY=passive first; see launcher.cpp).
#include "seqrec/cli.h"

int main(int argc, char** argv) { return seqrec::run_cli(std::vector<std::string>(argv + 1, argv + argc)); }
