// The ELECRec plugin's entry points.
#include "plugin/elecrec/elecrec.h"
#include "seqrec/plugin.h"

namespace {
void register_plugin(seqrec::PluginHost& host) {
  seqrec::elecrec::register_elecrec(*host.models, *host.trainers, *host.schema, host.origin);
}
}  // namespace

SEQREC_PLUGIN(register_plugin)
