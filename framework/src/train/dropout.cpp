#include "seqrec/dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <mutex>

namespace seqrec {
namespace {

std::atomic<DropoutRng> g_rng{DropoutRng::kFast};

/// SplitMix64's output function: entry j of a stream is mix(seed + j * golden gamma).
uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace

const EnumNames<DropoutRng>& dropout_rng_names() {
  static const EnumNames<DropoutRng> names = {{"fast", DropoutRng::kFast}, {"torch", DropoutRng::kTorch}};
  return names;
}

void set_dropout_rng(DropoutRng rng) {
  g_rng = rng;
}

torch::Tensor fast_dropout_mask(const torch::Tensor& like, double p) {
  uint64_t seed;
  {
    at::Generator gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    seed = gen.get<at::CPUGeneratorImpl>()->random64();
  }
  torch::Tensor mask = torch::empty(like.sizes(), torch::kFloat);
  float* m = mask.data_ptr<float>();
  const int64_t n = mask.numel();
  // Each 64-bit draw gives two 32-bit uniforms; an entry is kept when its uniform < keep = (1-p) 2^32.
  // The entry is selected with a bit mask, not a branch: a branch taken with probability 1 - p
  // mispredicts about half the time at p = 0.5.
  const uint64_t keep = static_cast<uint64_t>(std::llround((1.0 - p) * 4294967296.0));
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  uint32_t scale_bits;
  std::memcpy(&scale_bits, &scale, sizeof scale_bits);
  const auto entry = [&](uint64_t uniform) {
    const uint32_t bits = scale_bits & (0u - static_cast<uint32_t>(uniform < keep));
    float value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
  };
  constexpr uint64_t kGamma = 0x9E3779B97F4A7C15ULL;
  at::parallel_for(0, n / 2, 4096, [&](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j) {
      const uint64_t z = mix(seed + static_cast<uint64_t>(j) * kGamma);
      m[2 * j] = entry(z & 0xFFFFFFFFULL);
      m[2 * j + 1] = entry(z >> 32);
    }
  });
  if (n % 2 == 1) m[n - 1] = entry(mix(seed + static_cast<uint64_t>(n / 2) * kGamma) & 0xFFFFFFFFULL);
  return mask;
}

torch::Tensor apply_dropout(const torch::Tensor& x, const torch::nn::Dropout& module) {
  const double p = module->options.p();
  if (!module->is_training() || p == 0) return x;
  const bool fast = g_rng == DropoutRng::kFast && x.is_cpu() && x.scalar_type() == torch::kFloat && p < 1;
  if (!fast) return torch::dropout(x, p, /*train=*/true);
  return x * fast_dropout_mask(x, p);
}

}  // namespace seqrec
