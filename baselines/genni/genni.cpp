#include "baselines/genni/genni.h"

#include <torch/utils.h>

#include "seqrec/batch.h"
#include "seqrec/error.h"
#include "seqrec/plugin.h"

namespace seqrec {

GenNiSampler::GenNiSampler(const Dataset& data, GenNiOptions o) : options_(o), uniform_(data) {
  if (o.ratio() <= 0 || o.ratio() > 1) throw Error("--genni.ratio must lie in (0, 1]");
  if (o.uniform_share() < 0 || o.uniform_share() > 1) throw Error("--genni.uniform-share must lie in [0, 1]");
  if (o.alpha() < 0) throw Error("--genni.alpha must be at least 0");
}

torch::Tensor GenNiSampler::sample(const SampleRequest& req, std::mt19937_64& rng) {
  torch::NoGradGuard no_grad;
  const int64_t num_items = req.items.size(0) - 2;  // rows 1..num_items; 0 padding, last the mask id
  const int64_t n_rows = req.hidden.size(0);
  const auto dev = req.items.device();
  // The candidate set: `ratio` of the items, drawn without replacement with the torch RNG.
  const int64_t k = std::max<int64_t>(2, static_cast<int64_t>(std::llround(options_.ratio() * num_items)));
  torch::Tensor cand = options_.ratio() >= 1.0 ? torch::arange(1, num_items + 1, torch::TensorOptions(torch::kLong).device(dev))
                                                : (torch::randperm(num_items, torch::TensorOptions(torch::kLong).device(dev)) + 1).slice(0, 0, k);
  torch::Tensor table = req.items.index_select(0, cand);  // [|C|, d]
  torch::Tensor targets = to_device(req.targets, dev);
  std::vector<torch::Tensor> out;
  for (int64_t at = 0; at < n_rows; at += options_.block()) {
    const int64_t end = std::min(n_rows, at + options_.block());
    torch::Tensor logits = torch::mm(req.hidden.slice(0, at, end), table.t()).mul_(options_.alpha());
    logits.masked_fill_(cand.unsqueeze(0) == targets.slice(0, at, end).unsqueeze(1), -std::numeric_limits<float>::infinity());
    // Inverse CDF, all rows at once: the first column whose cumulative mass exceeds u.
    torch::Tensor cdf = torch::softmax(logits, 1).cumsum(1);
    torch::Tensor u = torch::rand({end - at, req.n}, cdf.options()) * cdf.narrow(1, cdf.size(1) - 1, 1);
    torch::Tensor pick = torch::searchsorted(cdf, u, /*out_int32=*/false, /*right=*/true).clamp_max_(cand.size(0) - 1);
    out.push_back(cand.index_select(0, pick.reshape(-1)).view({end - at, req.n}));
  }
  torch::Tensor negs = torch::cat(out);
  if (options_.uniform_share() > 0) {
    torch::Tensor uni = to_device(uniform_.sample(req.users, req.n, rng), dev);
    torch::Tensor pick = torch::rand({n_rows, req.n}, torch::TensorOptions().device(dev)) < options_.uniform_share();
    negs = torch::where(pick, uni, negs);
  }
  return negs;
}

torch::Tensor DNSSampler::sample(const SampleRequest& req, std::mt19937_64& rng) {
  torch::NoGradGuard no_grad;
  const int64_t n_rows = req.hidden.size(0);
  torch::Tensor cand = uniform_.sample(req.users, req.n * candidates_, rng).to(req.items.device());  // [N, n*M]
  torch::Tensor emb = req.items.index_select(0, cand.reshape(-1)).view({n_rows, req.n * candidates_, -1});
  torch::Tensor scores = torch::bmm(emb, req.hidden.unsqueeze(2)).view({n_rows, req.n, candidates_});
  torch::Tensor best = std::get<1>(scores.max(2));  // [N, n]
  return cand.view({n_rows, req.n, candidates_}).gather(2, best.unsqueeze(2)).squeeze(2);
}

void register_genni(PluginHost& host) {
  Schema& s = *host.schema;
  SamplerRegistry& r = *host.samplers;
  s.add({"genni.alpha", KeyType::kFloat, "1.0", "GenNi: sample negatives from softmax(alpha * score)", "sampler"});
  s.add({"genni.ratio", KeyType::kFloat, "1.0", "GenNi: share of the catalogue scored as candidates per batch", "sampler"});
  s.add({"genni.uniform-share", KeyType::kFloat, "0.0", "GenNi: share of negatives drawn uniformly instead", "sampler"});
  s.add({"dns.candidates", KeyType::kInt, "10", "DNS: uniform candidates per negative, best-scored kept", "sampler"});
  r.add("genni",
        [](const Config& c, const Dataset& d) -> std::unique_ptr<NegativeSampler> {
          return std::make_unique<GenNiSampler>(
              d, GenNiOptions().alpha(c.real("genni.alpha")).ratio(c.real("genni.ratio")).uniform_share(c.real("genni.uniform-share")));
        },
        "GenNi model-generated negatives (our specification: no code was published); keys genni.*");
  r.add("dns",
        [](const Config& c, const Dataset& d) -> std::unique_ptr<NegativeSampler> {
          const int64_t m = c.integer("dns.candidates");
          if (m < 1) throw Error("--dns.candidates must be at least 1");
          return std::make_unique<DNSSampler>(d, m);
        },
        "dynamic negative sampling: best-scored of dns.candidates uniform draws");
}
SEQREC_BUILTIN(register_genni);

}  // namespace seqrec
