// CONTRIBUTING.md's examples, built by the tests as one plugin: each example registers itself
// (SEQREC_BUILTIN, exactly as it would inside the tree); this file adds the ABI check.
#include "seqrec/plugin.h"

namespace {
void nothing_more(seqrec::PluginHost&) {}
}  // namespace

SEQREC_PLUGIN(nothing_more)
