#include "baselines/losses/softmax_ce.h"

#include <ATen/Parallel.h>
#include <c10/core/impl/LocalDispatchKeySet.h>
#include <cmath>
#include <torch/autograd.h>

#include "seqrec/evaluator.h"

namespace seqrec {
namespace {

constexpr int64_t kChunkRows = 32;
/// Rows per block on CPU: a [256, 12103] float block (12 MB) stays in the last-level cache
/// from its matmul through the row pass and both gradient matmuls.
constexpr int64_t kBlockRows = 256;
/// The CPU path's whole-width logits budget: it walks kBlockRows rows at a time, so the
/// whole catalogue's columns are kBlockRows x items (1 GiB at 1M items), in a buffer reused
/// across steps. Item blocks cost one more matmul (the logits are recomputed for the
/// gradients) and more passes: 6.5 s against 3.5 s for 256 rows x 1,048,576 items
/// (BM_SoftmaxCELargeCatalogue, 65,536-column blocks against whole, medians of three
/// interleaved repetitions), so the CPU blocks items only past 1 GiB.
constexpr int64_t kCpuWholeWidthBytes = 1LL << 30;

/// A reusable logits buffer of at least n * v elements. Buffers this large bypass malloc's
/// heap, so a fresh one per step would cost a page fault per 4 KiB.
torch::Tensor logits_buffer(int64_t n, int64_t v, const torch::TensorOptions& options) {
  static thread_local torch::Tensor cache;
  const bool reusable = cache.defined() && cache.storage().use_count() == 1 && cache.numel() >= n * v &&
                        cache.dtype() == options.dtype() && cache.device() == options.device();
  if (!reusable) cache = torch::empty({n * v + n * v / 4}, options);  // headroom for larger batches
  return cache.slice(0, 0, n * v).view({n, v});
}

/// Inverse-CDF draws over all columns but 0, from rows of weights w = exp(power * (logit - max))
/// (float, rows `stride` apart) and their sums: each row is walked in blocks of 16 until the
/// running sum passes u * (sum - w[0]), then entry by entry within the block. One partial
/// read per row and no buffer (a cumsum pass over the block cost as much as the exp).
void draw_rows(const float* w, int64_t rows, int64_t stride, int64_t v, const float* sum, const double* u,
               int64_t* out) {
  constexpr int64_t kBlock = 16;
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = w + r * stride;
    const double target = u[r] * (static_cast<double>(sum[r]) - x[0]);
    double acc = 0;
    int64_t j = 1;
    for (; j + kBlock <= v; j += kBlock) {
      float a[4] = {0, 0, 0, 0};  // four chains, so the adds overlap
      for (int64_t k = 0; k < kBlock; k += 4)
        for (int64_t q = 0; q < 4; ++q) a[q] += x[j + k + q];
      const double block = (a[0] + a[1]) + (a[2] + a[3]);
      if (acc + block > target) break;
      acc += block;
    }
    for (; j < v - 1; ++j)
      if ((acc += x[j]) > target) break;
    out[r] = j;
  }
}

/// The item-blocked path (the catalogue in blocks of `ib` columns, for catalogues whose
/// [rows, items] logits do not fit): per row block, a first pass over the item blocks keeps
/// each row's running max and sum of exp (an online log-sum-exp, and with sampling the sum of
/// exp(power * (logit - max)) over items 1..V-1); a second pass recomputes each block's
/// logits, turns them into (softmax - onehot) / n, adds both gradient products and, with
/// sampling, walks the running sum to each row's inverse-CDF draw: an exact draw over the
/// whole catalogue. Memory: one [rows, ib] block, never [rows, V].
void blocked_softmax_ce(const torch::Tensor& hidden, const torch::Tensor& items, const torch::Tensor& t, int64_t rows,
                        int64_t ib, torch::Tensor& loss, torch::Tensor& grad_hidden, torch::Tensor& grad_items,
                        SoftmaxSampling* sampling) {
  const int64_t n = hidden.size(0), v = items.size(0);
  const double power = sampling ? sampling->power : 1.0;
  for (int64_t b0 = 0; b0 < n; b0 += rows) {
    const int64_t b1 = std::min(n, b0 + rows);
    const torch::Tensor h = hidden.slice(0, b0, b1), tb = t.slice(0, b0, b1);
    torch::Tensor m = torch::full({b1 - b0}, -INFINITY, hidden.options()), sum = torch::zeros({b1 - b0}, hidden.options());
    torch::Tensor powered = torch::zeros({b1 - b0}, hidden.options().dtype(torch::kDouble));
    for (int64_t c0 = 0; c0 < v; c0 += ib) {
      const int64_t c1 = std::min(v, c0 + ib);
      const torch::Tensor l = torch::mm(h, items.slice(0, c0, c1).t());
      const torch::Tensor m2 = torch::maximum(m, std::get<0>(l.max(1)));
      sum = sum * (m - m2).exp() + (l - m2.unsqueeze(1)).exp().sum(1);
      if (sampling) {
        // exp in float (the logits' precision), sums in double over the whole catalogue.
        torch::Tensor w = ((l - m2.unsqueeze(1)) * power).exp();
        if (c0 == 0) w.select(1, 0).zero_();  // padding is never drawn
        powered = powered * ((m - m2).to(torch::kDouble) * power).exp() + w.sum(1, /*keepdim=*/false, torch::kDouble);
      }
      m = m2;
    }
    const torch::Tensor lse = m + sum.log();
    const torch::Tensor target_logit = (h * items.index_select(0, tb.squeeze(1))).sum(1);
    loss.slice(0, b0, b1).copy_(lse - target_logit);
    torch::Tensor drawn, acc, goal, open;
    if (sampling) {
      drawn = torch::full({b1 - b0}, v - 1, t.options());
      acc = torch::zeros({b1 - b0}, powered.options());
      goal = sampling->uniforms.slice(0, b0, b1).to(torch::kDouble) * powered;
      open = torch::ones({b1 - b0}, torch::TensorOptions(torch::kBool).device(hidden.device()));
    }
    for (int64_t c0 = 0; c0 < v; c0 += ib) {
      const int64_t c1 = std::min(v, c0 + ib);
      torch::Tensor g = torch::mm(h, items.slice(0, c0, c1).t());
      if (sampling) {
        torch::Tensor w = ((g - m.unsqueeze(1)) * power).exp().to(torch::kDouble);
        if (c0 == 0) w.select(1, 0).zero_();
        const torch::Tensor cdf = w.cumsum(1) + acc.unsqueeze(1);
        // Every row is searched and only the rows whose draw falls in this block keep it: no
        // host round trip to ask which rows those are (a device sync per block on a GPU).
        const torch::Tensor hit = open & (cdf.select(1, c1 - c0 - 1) > goal);
        const torch::Tensor j = torch::searchsorted(cdf, goal.unsqueeze(1), /*out_int32=*/false, /*right=*/true)
                                    .squeeze(1)
                                    .clamp_max(c1 - c0 - 1);
        drawn = torch::where(hit, j + c0, drawn);
        open = open & ~hit;
        acc = cdf.select(1, c1 - c0 - 1);
      }
      g.sub_(lse.unsqueeze(1)).exp_().mul_(1.0 / n);
      const torch::Tensor in = (tb >= c0) & (tb < c1);
      g.scatter_add_(1, (tb - c0).clamp(0, c1 - c0 - 1), in.to(g.dtype()) * (-1.0 / n));
      if (grad_hidden.defined()) grad_hidden.slice(0, b0, b1).addmm_(g, items.slice(0, c0, c1));
      if (grad_items.defined()) grad_items.slice(0, c0, c1).addmm_(g.t(), h);
    }
    if (sampling) sampling->samples.slice(0, b0, b1).copy_(drawn);
  }
}

/// The forward pass computes the loss and, block by block while the block's logits are hot,
/// both gradients (for an upstream gradient of 1); backward only scales them.
class FusedSoftmaxCE : public torch::autograd::Function<FusedSoftmaxCE> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& hidden,
                               const torch::Tensor& items, const torch::Tensor& targets, SoftmaxSampling* sampling,
                               int64_t item_block) {
    const int64_t n = hidden.size(0), v = items.size(0);
    torch::Tensor t = targets.to(torch::kLong).contiguous().unsqueeze(1);
    torch::Tensor loss = torch::empty({n}, hidden.options());
    if (sampling) sampling->samples = torch::empty({n}, t.options());
    torch::Tensor grad_hidden = hidden.requires_grad() ? torch::empty_like(hidden, at::MemoryFormat::Contiguous) : torch::Tensor();
    torch::Tensor grad_items = items.requires_grad() ? torch::zeros_like(items, at::MemoryFormat::Contiguous) : torch::Tensor();
    const bool cpu = hidden.device().is_cpu();
    const int64_t block = cpu ? std::min(n, kBlockRows) : n;
    item_block = item_block_for(item_block, block, v, hidden.element_size(), cpu ? kCpuWholeWidthBytes : kItemBlockBudgetBytes);
    if (item_block < v && !(sampling && sampling->candidates.defined())) {
      if (grad_hidden.defined()) grad_hidden.zero_();
      blocked_softmax_ce(hidden, items, t, block, item_block, loss, grad_hidden, grad_items, sampling);
      ctx->saved_data["grad_hidden"] = grad_hidden;
      ctx->saved_data["grad_items"] = grad_items;
      return loss.mean();
    }
    torch::Tensor buffer = logits_buffer(block, v, hidden.options());
    for (int64_t b0 = 0; b0 < n; b0 += block) {
      const int64_t b1 = std::min(n, b0 + block);
      torch::Tensor h = hidden.slice(0, b0, b1), g = buffer.slice(0, 0, b1 - b0);
      torch::mm_out(g, h, items.t());  // becomes the gradient in place
      // On CPU, chunks of rows stay in the core's cache through all passes; ATen's
      // vectorised kernels run on each chunk, one chunk per thread. Elsewhere the block is one
      // chunk: a GPU runs each pass over all rows as one kernel (32-row chunks made an
      // ELECRec step a few thousand kernel launches).
      const int64_t chunk = cpu ? kChunkRows : b1 - b0;
      auto run = [&](int64_t r0, int64_t r1) {
        for (int64_t c0 = r0; c0 < r1; c0 += chunk) {
          const int64_t c1 = std::min(r1, c0 + chunk);
          loss.slice(0, b0 + c0, b0 + c1)
              .copy_(softmax_ce_rows(g.slice(0, c0, c1), t.slice(0, b0 + c0, b0 + c1), 1.0 / n, sampling, b0 + c0));
        }
      };
      if (cpu) at::parallel_for(0, b1 - b0, kChunkRows, run);
      else run(0, b1 - b0);
      if (grad_hidden.defined()) grad_hidden.slice(0, b0, b1).copy_(torch::mm(g, items));
      if (grad_items.defined()) grad_items.addmm_(g.t(), h);
    }
    ctx->saved_data["grad_hidden"] = grad_hidden;
    ctx->saved_data["grad_items"] = grad_items;
    return loss.mean();
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    const torch::Tensor up = grad_out[0];
    auto scaled = [&](const char* key) {
      torch::Tensor g = ctx->saved_data[key].toTensor();
      return g.defined() ? g * up : g;
    };
    return {scaled("grad_hidden"), scaled("grad_items"), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor softmax_ce_rows(torch::Tensor logits, const torch::Tensor& targets, double scale,
                              SoftmaxSampling* sampling, int64_t r0) {
  torch::Tensor target_logit = logits.gather(1, targets);
  torch::Tensor m = std::get<0>(logits.max(1, /*keepdim=*/true));
  logits.sub_(m);
  // The draws' weights exp(power * (logit - max)); with power 1, the softmax's own e. (A pow
  // of e, a cumsum and a searchsorted instead made the row pass 3-7x as slow: BM_SoftmaxRows.)
  const torch::Tensor powered =
      sampling && sampling->power != 1.0 ? logits.mul(sampling->power).exp_() : torch::Tensor();
  logits.exp_();  // e = exp(logit - max)
  torch::Tensor s = logits.sum(1, /*keepdim=*/true);
  if (sampling) {
    const int64_t r1 = r0 + logits.size(0);
    torch::Tensor u = sampling->uniforms.slice(0, r0, r1);
    torch::Tensor out = sampling->samples.slice(0, r0, r1);
    const torch::Tensor weights = powered.defined() ? powered : logits;
    if (!sampling->candidates.defined() && weights.device().is_cpu() && weights.scalar_type() == torch::kFloat &&
        weights.stride(1) == 1) {
      torch::Tensor sums = powered.defined() ? powered.sum(1) : s;
      torch::Tensor ud = u.to(torch::kDouble).contiguous();
      torch::Tensor drawn = torch::empty({logits.size(0)}, out.options());
      draw_rows(weights.data_ptr<float>(), weights.size(0), weights.stride(0), weights.size(1),
                sums.contiguous().data_ptr<float>(), ud.data_ptr<double>(), drawn.data_ptr<int64_t>());
      out.copy_(drawn);
    } else {
      // Inverse CDF with u over the candidates' weights.
      torch::Tensor w = sampling->candidates.defined() ? weights.index_select(1, sampling->candidates)
                                                       : weights.slice(1, 1, weights.size(1));
      torch::Tensor cdf = w.cumsum(1);
      torch::Tensor x = u.to(cdf.dtype()).unsqueeze(1) * cdf.slice(1, -1);
      torch::Tensor idx = torch::searchsorted(cdf, x, /*out_int32=*/false, /*right=*/true).clamp_max_(cdf.size(1) - 1).squeeze(1);
      out.copy_(sampling->candidates.defined() ? sampling->candidates.index_select(0, idx) : idx + 1);
    }
  }
  torch::Tensor loss = (m + s.log() - target_logit).squeeze(1);
  logits.mul_(scale / s);
  logits.scatter_add_(1, targets, torch::full_like(target_logit, -scale));
  return loss;
}

torch::Tensor fused_softmax_ce(const torch::Tensor& hidden, const torch::Tensor& items, const torch::Tensor& targets,
                               SoftmaxSampling* sampling, int64_t item_block) {
  // Under --precision bf16 the encoder's output may be bfloat16: the loss casts it up (a
  // differentiable cast) and runs in the item table's float with autocast off, so its
  // log-sum-exp, gradients and draws keep float precision.
  c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::autocast_dispatch_keyset);
  const torch::Tensor h = hidden.scalar_type() == items.scalar_type() ? hidden : hidden.to(items.scalar_type());
  return FusedSoftmaxCE::apply(h, items, targets, sampling, item_block);
}

torch::Tensor multinomial_sample(const torch::Tensor& logits, double power, const torch::Tensor& candidates) {
  torch::Tensor l = candidates.defined() ? logits.index_select(1, candidates) : logits.slice(1, 1, logits.size(1));
  torch::Tensor idx = torch::multinomial(torch::softmax(l.to(torch::kDouble) * power, 1), 1).squeeze(1);
  return candidates.defined() ? candidates.index_select(0, idx) : idx + 1;
}

}  // namespace seqrec
