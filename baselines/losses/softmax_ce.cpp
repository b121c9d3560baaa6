#include "baselines/losses/softmax_ce.h"

#include <ATen/Parallel.h>
#include <torch/autograd.h>

namespace seqrec {
namespace {

constexpr int64_t kChunkRows = 32;

/// A reusable [n, v] buffer for the logits. Buffers this large bypass malloc's heap, so a
/// fresh one per step costs a page fault per 4 KiB; the previous step's buffer is reused
/// once autograd has let go of it (no other reference to its storage).
torch::Tensor logits_buffer(int64_t n, int64_t v, const torch::TensorOptions& options) {
  static thread_local torch::Tensor cache;
  const bool reusable = cache.defined() && cache.storage().use_count() == 1 && cache.numel() >= n * v &&
                        cache.dtype() == options.dtype() && cache.device() == options.device();
  if (!reusable) cache = torch::empty({n * v + n * v / 4}, options);  // headroom for larger batches
  return cache.slice(0, 0, n * v).view({n, v});
}

class FusedSoftmaxCE : public torch::autograd::Function<FusedSoftmaxCE> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& hidden,
                               const torch::Tensor& items, const torch::Tensor& targets, SoftmaxSampling* sampling) {
    torch::Tensor g = logits_buffer(hidden.size(0), items.size(0), hidden.options());
    torch::mm_out(g, hidden, items.t());  // becomes the gradient in place
    const int64_t n = g.size(0);
    torch::Tensor t = targets.to(torch::kLong).contiguous().unsqueeze(1);
    torch::Tensor loss = torch::empty({n}, g.options());
    if (sampling) sampling->samples = torch::empty({n}, t.options());
    auto run = [&](int64_t r0, int64_t r1) {
      for (int64_t c0 = r0; c0 < r1; c0 += kChunkRows) {
        const int64_t c1 = std::min(r1, c0 + kChunkRows);
        loss.slice(0, c0, c1).copy_(softmax_ce_rows(g.slice(0, c0, c1), t.slice(0, c0, c1), 1.0 / n, sampling, c0));
      }
    };
    // On CPU, blocks of rows stay in cache through all passes; ATen's vectorised kernels
    // run on each block, one block per thread.
    if (g.device().is_cpu()) at::parallel_for(0, n, kChunkRows, run);
    else run(0, n);
    ctx->save_for_backward({hidden, items, g});
    return loss.mean();
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    auto saved = ctx->get_saved_variables();
    const torch::Tensor &hidden = saved[0], &items = saved[1], &g = saved[2];
    torch::Tensor up = grad_out[0];
    return {torch::mm(g, items) * up, torch::mm(g.t(), hidden) * up, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor softmax_ce_rows(torch::Tensor logits, const torch::Tensor& targets, double scale,
                              SoftmaxSampling* sampling, int64_t r0) {
  torch::Tensor target_logit = logits.gather(1, targets);
  torch::Tensor m = std::get<0>(logits.max(1, /*keepdim=*/true));
  logits.sub_(m).exp_();  // e = exp(logit - max)
  if (sampling) {
    // exp(power * (logit - max)) = e^power over the candidates; inverse CDF with u.
    const int64_t r1 = r0 + logits.size(0);
    torch::Tensor w = sampling->candidates.defined() ? logits.index_select(1, sampling->candidates)
                                                     : logits.slice(1, 1, logits.size(1));
    if (sampling->power != 1.0) w = w.pow(sampling->power);
    torch::Tensor cdf = w.cumsum(1);
    torch::Tensor u = sampling->uniforms.slice(0, r0, r1).to(cdf.dtype()).unsqueeze(1) * cdf.slice(1, -1);
    torch::Tensor idx = torch::searchsorted(cdf, u, /*out_int32=*/false, /*right=*/true).clamp_max_(cdf.size(1) - 1).squeeze(1);
    sampling->samples.slice(0, r0, r1).copy_(sampling->candidates.defined() ? sampling->candidates.index_select(0, idx) : idx + 1);
  }
  torch::Tensor s = logits.sum(1, /*keepdim=*/true);
  torch::Tensor loss = (m + s.log() - target_logit).squeeze(1);
  logits.div_(s / scale);
  logits.scatter_add_(1, targets, torch::full_like(target_logit, -scale));
  return loss;
}

torch::Tensor fused_softmax_ce(const torch::Tensor& hidden, const torch::Tensor& items, const torch::Tensor& targets,
                               SoftmaxSampling* sampling) {
  return FusedSoftmaxCE::apply(hidden, items, targets, sampling);
}

torch::Tensor multinomial_sample(const torch::Tensor& logits, double power, const torch::Tensor& candidates) {
  torch::Tensor l = candidates.defined() ? logits.index_select(1, candidates) : logits.slice(1, 1, logits.size(1));
  torch::Tensor idx = torch::multinomial(torch::softmax(l.to(torch::kDouble) * power, 1), 1).squeeze(1);
  return candidates.defined() ? candidates.index_select(0, idx) : idx + 1;
}

}  // namespace seqrec
