#include "baselines/losses/softmax_ce.h"

#include <ATen/Parallel.h>
#include <torch/autograd.h>
#include <torch/nn/functional/loss.h>

#include <cmath>
#include <cstring>

namespace seqrec {
namespace {

constexpr int64_t kChunkRows = 32;

class FusedSoftmaxCE : public torch::autograd::Function<FusedSoftmaxCE> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& hidden,
                               const torch::Tensor& items, const torch::Tensor& targets) {
    torch::Tensor g = torch::mm(hidden, items.t()).contiguous();  // becomes the gradient in place
    const int64_t n = g.size(0);
    torch::Tensor t = targets.to(torch::kLong).contiguous().unsqueeze(1);
    std::vector<float> loss(n);
    // Chunks of rows stay in cache through all passes; ATen's vectorised kernels run on each.
    at::parallel_for(0, n, kChunkRows, [&](int64_t r0, int64_t r1) {
      for (int64_t c0 = r0; c0 < r1; c0 += kChunkRows) {
        const int64_t c1 = std::min(r1, c0 + kChunkRows);
        softmax_ce_rows(g.slice(0, c0, c1), t.slice(0, c0, c1), 1.0f / static_cast<float>(n), loss.data() + c0);
      }
    });
    double total = 0;
    for (float x : loss) total += x;
    ctx->save_for_backward({hidden, items, g});
    return torch::tensor(static_cast<float>(total / std::max<int64_t>(1, n)), hidden.options());
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    auto saved = ctx->get_saved_variables();
    const torch::Tensor &hidden = saved[0], &items = saved[1], &g = saved[2];
    torch::Tensor up = grad_out[0];
    torch::Tensor grad_hidden = torch::mm(g, items) * up;
    torch::Tensor grad_items = torch::mm(g.t(), hidden) * up;
    return {grad_hidden, grad_items, torch::Tensor()};
  }
};

}  // namespace

void softmax_ce_rows(torch::Tensor logits, const torch::Tensor& targets, float scale, float* loss) {
  torch::Tensor target_logit = logits.gather(1, targets);
  torch::Tensor m = std::get<0>(logits.max(1, /*keepdim=*/true));
  logits.sub_(m).exp_();
  torch::Tensor s = logits.sum(1, /*keepdim=*/true);
  torch::Tensor l = (m + s.log() - target_logit).contiguous();
  std::memcpy(loss, l.data_ptr<float>(), sizeof(float) * l.numel());
  logits.div_(s / scale);
  logits.scatter_add_(1, targets, torch::full_like(target_logit, -scale));
}

torch::Tensor fused_softmax_ce(const torch::Tensor& hidden, const torch::Tensor& items, const torch::Tensor& targets) {
  if (!hidden.device().is_cpu() || hidden.scalar_type() != torch::kFloat)
    return torch::nn::functional::cross_entropy(torch::mm(hidden, items.t()), targets);
  return FusedSoftmaxCE::apply(hidden, items, targets);
}

}  // namespace seqrec
