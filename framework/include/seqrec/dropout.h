#pragma once
/// Dropout for the built-in encoders. LibTorch 1.13 draws a CPU dropout mask with bernoulli_,
/// one mt19937 call per element: 11% of an ELECRec training step on Beauty (perf). The "fast"
/// generator (--dropout-rng fast, the default) makes the mask from a counter-based SplitMix64
/// stream keyed by one draw of LibTorch's generator, so runs stay reproducible under --seed and
/// do not depend on the thread count. "torch" keeps LibTorch's dropout: the masks of every
/// result recorded before this switch existed.
#include <torch/nn/modules/dropout.h>

#include "seqrec/config.h"

namespace seqrec {

enum class DropoutRng { kFast, kTorch };
/// --dropout-rng's choices: fast, torch.
const EnumNames<DropoutRng>& dropout_rng_names();
/// Process-wide; `seqrec train` sets it from --dropout-rng.
void set_dropout_rng(DropoutRng rng);

/// x with the module's dropout applied: identity in eval mode or at p = 0; the fast mask on
/// CPU float tensors; LibTorch's dropout otherwise.
torch::Tensor apply_dropout(const torch::Tensor& x, const torch::nn::Dropout& module);

/// A CPU float mask shaped like `like`: each entry 1/(1-p) with probability 1-p, else 0.
torch::Tensor fast_dropout_mask(const torch::Tensor& like, double p);

}  // namespace seqrec
