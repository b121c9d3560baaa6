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

}  // namespace seqrec::testing
