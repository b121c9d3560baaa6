#pragma once
/// Full-softmax cross-entropy over the whole catalogue, fused: logits are computed once,
/// turned into the gradient (softmax - onehot) / N in place, row by row while the row is
/// in cache, and kept for backward. Exactly the value and gradients of
/// cross_entropy(hidden . items^T, targets) with mean reduction, with one [N, item_size]
/// buffer instead of several.
#include <torch/types.h>

namespace seqrec {

/// hidden [N, d], items [V, d], targets [N] int64 in [0, V). Differentiable in hidden and
/// items. Falls back to ATen's cross_entropy on non-CPU tensors.
torch::Tensor fused_softmax_ce(const torch::Tensor& hidden, const torch::Tensor& items, const torch::Tensor& targets);

/// The row kernel, exposed for tests and benchmarks: turns `logits` [R, V] (a contiguous
/// row block) into (softmax - onehot(targets)) * scale in place and writes
/// logsumexp - logit[target] of each row to loss[0..R).
void softmax_ce_rows(torch::Tensor logits, const torch::Tensor& targets, float scale, float* loss);

}  // namespace seqrec
