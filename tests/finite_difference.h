#pragma once
// Gradients against central finite differences, for tests whose parameters are double.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <string>

namespace seqrec::testing {

/// A double parameter's backward() gradient (already computed) at its first, middle and last
/// entries and at its largest, against central finite differences of `objective`. Entries
/// before `from` are left out (an embedding table's padding row, which gets no gradient).
inline void expect_finite_difference_gradient(const torch::Tensor& param, const std::function<torch::Tensor()>& objective,
                                              const std::string& name, double tolerance = 1e-6, int64_t from = 0) {
  ASSERT_TRUE(param.grad().defined()) << name << " has no gradient";
  torch::Tensor flat = param.view(-1), grad = param.grad().view(-1);
  const int64_t largest = from + grad.slice(0, from).abs().argmax().item<int64_t>();
  for (int64_t i : {from, (from + flat.size(0)) / 2, flat.size(0) - 1, largest}) {
    torch::NoGradGuard g;
    const double h = 1e-6, saved = flat[i].item<double>();
    flat[i] = saved + h;
    const double up = objective().item<double>();
    flat[i] = saved - h;
    const double down = objective().item<double>();
    flat[i] = saved;
    EXPECT_NEAR(grad[i].item<double>(), (up - down) / (2 * h), tolerance) << name << "[" << i << "]";
  }
}

/// Every parameter of `module` (its gradients already computed) against finite differences of
/// `objective`, the item table's padding row left out; with `reached_only`, the parameters
/// the objective gave no gradient are skipped. Returns how many parameters were checked.
inline int64_t expect_parameter_gradients(torch::nn::Module& module, const std::function<torch::Tensor()>& objective,
                                          const std::string& what, bool reached_only = false) {
  int64_t checked = 0;
  for (const auto& p : module.named_parameters()) {
    const torch::Tensor& g = p.value().grad();
    if (reached_only && (!g.defined() || g.abs().max().item<double>() == 0)) continue;
    ++checked;
    expect_finite_difference_gradient(p.value(), objective, what + " " + p.key(), 1e-6,
                                      p.key() == "item_embeddings.weight" ? p.value().size(1) : 0);
  }
  return checked;
}

}  // namespace seqrec::testing
