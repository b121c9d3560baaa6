#pragma once
/// Full-softmax cross-entropy over the whole catalogue, fused: a block of rows at a time
/// (256 on CPU, all on other devices), the logits are computed, turned into the gradient
/// (softmax - onehot) / N in place and multiplied into both input gradients while the block
/// is in cache; backward only scales them. Value and gradients equal
/// cross_entropy(hidden . items^T, targets) with mean reduction, with one [block, item_size]
/// buffer instead of several [N, item_size] ones. Optionally draws one item per row from the same logits
/// (ELECRec's generator, GenNi), so sampling costs no second matmul.
#include <torch/types.h>

namespace seqrec {

/// Sampling request: for row r, draw j from C with probability
/// softmax(logits[r, C])^power / sum (i.e. proportional to exp(power * logit)), by inverse
/// CDF with the uniform u[r].
struct SoftmaxSampling {
  double power = 1.0;
  torch::Tensor candidates;  ///< [K] int64 ids to sample among; undefined = 1..V-1 (all but padding)
  torch::Tensor uniforms;    ///< [N] U(0,1), one per row (drawn by the caller: seeded, thread-independent)
  torch::Tensor samples;     ///< out: [N] int64 drawn ids
};

/// hidden [N, d], items [V, d], targets [N] int64 in [0, V). Differentiable in hidden and
/// items; any floating dtype and device. With `sampling`, also fills sampling->samples.
/// item_block: catalogue columns scored together; 0 = all of them unless a row block's logits
/// would pass 256 MiB (1 GiB on a CPU, whose row blocks are 256 rows), then blocks that fit.
/// Below V, the item-blocked path (an online log-sum-exp and a second pass; sampling stays an
/// exact draw over the whole catalogue; sampling among given candidates always takes the
/// unblocked path).
torch::Tensor fused_softmax_ce(const torch::Tensor& hidden, const torch::Tensor& items, const torch::Tensor& targets,
                               SoftmaxSampling* sampling = nullptr, int64_t item_block = 0);

/// The block kernel, exposed for tests and benchmarks: turns `logits` [R, V] (a row block)
/// into (softmax - onehot(targets)) * scale in place and returns logsumexp - logit[target]
/// per row, [R]. With `sampling` (rows r0.. of the request), writes the block's draws.
torch::Tensor softmax_ce_rows(torch::Tensor logits, const torch::Tensor& targets, double scale,
                              SoftmaxSampling* sampling = nullptr, int64_t r0 = 0);

/// Reference sampler (slow, independent path for tests): torch::multinomial over
/// softmax(power * logits[:, C]).
torch::Tensor multinomial_sample(const torch::Tensor& logits, double power, const torch::Tensor& candidates);

}  // namespace seqrec
