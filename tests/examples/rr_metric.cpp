// A metric in one file: the reciprocal rank within the top k (RecBole's MRR@k), as "rr@k".
#include "seqrec/metric.h"
#include "seqrec/plugin.h"

namespace {
void register_rr(seqrec::PluginHost& host) {
  host.metrics->add("rr", {[](int64_t rank, int64_t k) { return rank < k ? 1.0 / (rank + 1) : 0.0; }, true,
                          "reciprocal rank of answers in the top k, else 0", host.origin});
}
}  // namespace

SEQREC_BUILTIN(register_rr);
