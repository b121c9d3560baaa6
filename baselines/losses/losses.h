#pragma once
/// Registration functions of the built-in losses: one file per loss, one line each in
/// register_builtins().
#include "seqrec/config.h"
#include "seqrec/registry.h"

namespace seqrec {

void register_bce(LossRegistry& r, Schema& s);
void register_ce(LossRegistry& r, Schema& s);
void register_cce(LossRegistry& r, Schema& s);

/// Full-softmax cross-entropy of hidden . items^T against targets, mean over rows.
torch::Tensor full_softmax_ce(const LossInput& in);

}  // namespace seqrec
