#include "seqrec/cli.h"

int main(int argc, char** argv) { return seqrec::run_cli(std::vector<std::string>(argv + 1, argv + argc)); }
