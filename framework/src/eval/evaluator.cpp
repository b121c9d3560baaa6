#include "seqrec/evaluator.h"
#include "seqrec/metric.h"

#include <ATen/Parallel.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <limits>
#include <random>
#include <sstream>

#include "io/h5.h"
#include "seqrec/distributed.h"
#include "seqrec/error.h"
#include "seqrec/files.h"
#include "seqrec/hash.h"
#include "seqrec/plugin.h"
#include "seqrec/progress.h"

namespace seqrec {

const EnumNames<Protocol>& protocol_names() {
  static const EnumNames<Protocol> n = {{"reference", Protocol::kReference}, {"strict", Protocol::kStrict}};
  return n;
}
const EnumNames<TieRule>& tie_rule_names() {
  static const EnumNames<TieRule> n = {{"optimistic", TieRule::kOptimistic}, {"pessimistic", TieRule::kPessimistic}};
  return n;
}
const EnumNames<Candidates>& candidates_names() {
  static const EnumNames<Candidates> n = {
      {"full", Candidates::kFull}, {"uni100", Candidates::kUniform100}, {"pop100", Candidates::kPopularity100}};
  return n;
}
const EnumNames<Stage>& stage_names() {
  static const EnumNames<Stage> n = {{"valid", Stage::kValid}, {"test", Stage::kTest}};
  return n;
}
const EnumNames<bool>& history_order_names() {
  static const EnumNames<bool> n = {{"original", false}, {"shuffled", true}};
  return n;
}

std::string protocol_name(Protocol p) { return name_of(protocol_names(), p); }

std::string tie_rule_name(TieRule t) { return name_of(tie_rule_names(), t); }

std::string EvalOptions::label() const {
  return name_of(candidates_names(), candidates) + "/" + protocol_name(protocol) + "/" + tie_rule_name(ties) +
         (shuffled_history ? keep_last ? "/shuffled-keep-last" : "/shuffled" : "");
}

void declare_eval_keys(Schema& s) {
  s.add({"protocol", KeyType::kString, "reference",
         "history exclusion: reference (history scored 0, padding and mask rows ranked, as the papers' code) "
         "or strict (-inf for history, padding and mask)",
         "eval", choices_of(protocol_names())});
  s.add({"ties", KeyType::kString, "optimistic",
         "rank of the answer among equal scores: optimistic (count strictly higher) or pessimistic", "eval",
         choices_of(tie_rule_names())});
  s.add({"candidates", KeyType::kString, "full",
         "full ranking, or the answer plus 100 negatives sampled uniformly (uni100) or by popularity (pop100)",
         "eval", choices_of(candidates_names())});
  s.add({"ks", KeyType::kIntList, "5,10,20", "cut-offs for HIT@K and NDCG@K", "eval"});
  s.add({"eval-user-block", KeyType::kInt, "1024", "users scored together (bounds memory)", "eval"});
  s.add({"history-order", KeyType::kString, "original",
         "evaluation inputs as recorded (original) or each permuted within the model's input window, seeded by "
         "--seed (shuffled: the sequentiality check; train runs record a shuffled test beside the test anyway)",
         "eval", choices_of(history_order_names())});
  s.add({"history-order.keep-last", KeyType::kBool, "false",
         "with --history-order shuffled: the last history item stays last, the others are permuted", "eval"});
  s.add({"eval-item-block", KeyType::kInt, "0",
         "catalogue columns scored together (0 = all, unless a user block's scores would pass 256 MiB; ranks do "
         "not depend on it)", "eval"});
}

EvalOptions eval_options_from(const Config& c) {
  EvalOptions o;
  o.protocol = c.choice("protocol", protocol_names());
  o.ties = c.choice("ties", tie_rule_names());
  o.candidates = c.choice("candidates", candidates_names());
  o.ks = c.int_list("ks");
  for (int64_t k : o.ks)
    if (k < 1) throw Error("--ks: cut-offs must be positive");
  o.user_block = c.integer("eval-user-block");
  o.item_block = c.integer("eval-item-block");
  if (o.user_block < 1 || o.item_block < 0) throw Error("--eval-user-block must be >= 1 and --eval-item-block >= 0");
  o.seed = static_cast<uint64_t>(c.integer("seed"));
  o.shuffled_history = c.choice("history-order", history_order_names());
  o.keep_last = c.flag("history-order.keep-last");
  return o;
}

namespace {
/// hit, ndcg and mrr, through the registry plugins add their metrics to.
void register_builtin_metrics(PluginHost& host) {
  host.metrics->add("hit", {[](int64_t rank, int64_t k) { return rank < k ? 1.0 : 0.0; }, true, "share of answers ranked in the top k"});
  host.metrics->add("ndcg", {[](int64_t rank, int64_t k) { return rank < k ? 1.0 / std::log2(rank + 2.0) : 0.0; }, true,
                             "1 / log2(rank + 2) for answers in the top k (one relevant item: IDCG = 1)"});
  host.metrics->add("mrr", {[](int64_t rank, int64_t) { return 1.0 / (rank + 1.0); }, false, "1 / (rank + 1), over the whole ranking"});
}
SEQREC_BUILTIN(register_builtin_metrics);
}  // namespace

void MetricRegistry::add(const std::string& name, Metric metric) {
  if (name.empty() || name.find('@') != std::string::npos) throw Error("metric name '" + name + "': empty or with '@'");
  ValueRegistry::add(name, std::move(metric));
}

std::vector<std::string> metric_names(const std::vector<int64_t>& ks) {
  std::vector<std::string> out;
  for (int64_t k : ks)
    for (const auto& [name, m] : metrics().entries())
      if (m.at_k) out.push_back(name + "@" + std::to_string(k));
  for (const auto& [name, m] : metrics().entries())
    if (!m.at_k) out.push_back(name);
  return out;
}

UserMetric user_metric(const std::string& name) {
  const size_t at = name.find('@');
  const std::string base = name.substr(0, at);
  for (const auto& [n, m] : metrics().entries()) {
    if (n != base || m.at_k != (at != std::string::npos)) continue;
    return {m.value, m.at_k ? to_integer(name.substr(at + 1), "metric " + name) : 0};
  }
  std::string known;
  for (const auto& n : metric_names({10})) known += (known.empty() ? "" : ", ") + n;
  throw Error("unknown metric '" + name + "' (registered: " + known + ", any k)");
}

std::map<std::string, double> metrics_from_ranks(const std::vector<int64_t>& ranks, const std::vector<int64_t>& ks) {
  std::map<std::string, double> m;
  const double n = std::max<size_t>(1, ranks.size());
  for (const std::string& name : metric_names(ks)) {
    const UserMetric metric = user_metric(name);
    double sum = 0;
    for (int64_t r : ranks) sum += metric(r);
    m[name] = sum / n;
  }
  return m;
}

std::string format_metrics(const std::map<std::string, double>& m, const std::vector<int64_t>& ks) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(4);
  std::string sep;
  std::vector<std::string> names = metric_names(ks);
  // Exposure at the largest cut-off only (results keep every k): log lines stay readable.
  if (!ks.empty())
    for (const std::string& name : exposure_metric_names({*std::max_element(ks.begin(), ks.end())}))
      if (m.count(name)) names.push_back(name);
  for (const std::string& name : names) {
    std::string upper = name;
    for (char& ch : upper) ch = ch == '@' ? ch : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    o << sep << upper << " " << m.at(name);
    sep = "  ";
  }
  return o.str();
}

std::vector<std::vector<int32_t>> RankingEvaluator::sample_candidates(const Dataset& data, const EvalSet& set) const {
  std::vector<std::vector<int32_t>> out(set.users.size());
  const int64_t n_items = data.num_items;
  std::vector<double> weight(n_items, 1.0);
  if (options_.candidates == Candidates::kPopularity100) {
    // Popularity from the training parts only: held-out items never inform the candidates.
    const std::vector<double> counts = training_popularity(data);
    for (int64_t i = 0; i < n_items; ++i) weight[i] = counts[i + 1] + 1e-3;  // never-seen items stay drawable
  }
  std::discrete_distribution<int32_t> draw(weight.begin(), weight.end());
  std::mt19937_64 rng(options_.seed * 1000003ULL + static_cast<uint64_t>(set.stage));
  for (size_t i = 0; i < set.users.size(); ++i) {
    std::vector<int32_t> excluded(set.history[i], set.history[i] + set.history_len[i]);
    excluded.push_back(static_cast<int32_t>(set.answers[i]));
    std::sort(excluded.begin(), excluded.end());
    const int64_t available = n_items - static_cast<int64_t>(std::unique(excluded.begin(), excluded.end()) - excluded.begin());
    if (available < 100)
      throw Error("--candidates " + options_.label().substr(0, options_.label().find('/')) + " needs 100 items outside every "
                  "user's history and answer; user row " + std::to_string(set.users[i]) + " has " + std::to_string(available) +
                  " (a catalogue of " + std::to_string(n_items) + " items)");
    const int64_t want = 100;
    std::vector<int32_t>& c = out[i];
    while (static_cast<int64_t>(c.size()) < want) {
      int32_t item = draw(rng) + 1;
      if (std::binary_search(excluded.begin(), excluded.end(), item) || std::find(c.begin(), c.end(), item) != c.end())
        continue;
      c.push_back(item);
    }
  }
  return out;
}

RankingEvaluator::BlockRanks RankingEvaluator::rank_block(const torch::Tensor& h, const torch::Tensor& items,
                                                          const EvalSet& set, const std::vector<int64_t>& idx,
                                                          std::vector<int32_t>* top, int64_t top_k) const {
  const int64_t m = h.size(0), v = items.size(0);
  const bool reference = options_.protocol == Protocol::kReference;
  const bool pessimistic = options_.ties == TieRule::kPessimistic;
  std::vector<int64_t> answers(m);
  for (int64_t r = 0; r < m; ++r) answers[r] = set.answers[idx[r]];
  // The answer's score, computed once per user whatever the blocking.
  torch::Tensor ans_idx = torch::tensor(answers, torch::kLong).to(items.device());
  torch::Tensor target = (h * items.index_select(0, ans_idx)).sum(-1).to(torch::kCPU).to(torch::kFloat).contiguous();
  std::vector<float> t(target.data_ptr<float>(), target.data_ptr<float>() + m);
  if (reference) {
    // The reference zeroes every history score, the answer's too if it repeats a history item.
    for (int64_t r = 0; r < m; ++r) {
      const int32_t* hist = set.history[idx[r]];
      if (std::find(hist, hist + set.history_len[idx[r]], answers[r]) != hist + set.history_len[idx[r]]) t[r] = 0.f;
    }
  }
  // Per row, the competitors scored strictly higher and those scored equal; the rank is the
  // first (optimistic) or their sum (pessimistic).
  std::vector<int64_t> higher(m, 0), tied(m, 0);
  // A non-finite answer score (a diverged model) compares false with everything, which would
  // rank the answer first: it ranks last instead, under either rule.
  auto ranked = [&](int64_t competitors) {
    BlockRanks b{std::move(higher), std::move(tied)};
    for (int64_t r = 0; r < m; ++r) {
      if (!std::isfinite(t[r])) {
        b.ranks[r] = competitors;
        b.tied[r] = 0;
      } else if (pessimistic) {
        b.ranks[r] += b.tied[r];
      }
    }
    return b;
  };

  if (options_.candidates != Candidates::kFull) {
    const auto& cands = candidates_;
    const int64_t k = cands.empty() ? 0 : static_cast<int64_t>(cands[idx[0]].size());
    std::vector<int64_t> flat;
    flat.reserve(m * k);
    for (int64_t r = 0; r < m; ++r) {
      if (static_cast<int64_t>(cands[idx[r]].size()) != k) throw Error("sampled candidate sets differ in size");
      flat.insert(flat.end(), cands[idx[r]].begin(), cands[idx[r]].end());
    }
    torch::Tensor ci = torch::tensor(flat, torch::kLong).to(items.device());
    torch::Tensor s = torch::bmm(items.index_select(0, ci).view({m, k, -1}), h.unsqueeze(2)).squeeze(2);
    s = s.to(torch::kCPU).to(torch::kFloat).contiguous();
    const float* sp = s.data_ptr<float>();
    for (int64_t r = 0; r < m; ++r)
      for (int64_t j = 0; j < k; ++j) {
        higher[r] += sp[r * k + j] > t[r];
        tied[r] += sp[r * k + j] == t[r];
      }
    return ranked(k);
  }

  // Ranks and lists do not depend on the blocking.
  const int64_t block = item_block_for(options_.item_block, m, v, h.element_size());
  const float excluded = reference ? 0.f : -std::numeric_limits<float>::infinity();
  // Top lists: per row, the best top_k (score, id) so far, best first; columns arrive in
  // increasing id, and only a strictly higher score displaces, so ties keep the lower id.
  // -inf and NaN never enter, nor do the padding and mask rows.
  if (top) top->assign(m * top_k, 0);
  std::vector<float> top_score(top ? m * top_k : 0, -std::numeric_limits<float>::infinity());
  for (int64_t c0 = 0; c0 < v; c0 += block) {
    const int64_t c1 = std::min(v, c0 + block), nb = c1 - c0;
    // One buffer for all blocks: fresh allocations this large would page-fault on every block.
    const int64_t need = m * nb;
    if (!scores_.defined() || scores_.numel() < need || scores_.device() != h.device() || scores_.dtype() != h.dtype())
      scores_ = torch::empty({need}, h.options());
    torch::Tensor s = scores_.slice(0, 0, need).view({m, nb});
    torch::mm_out(s, h, items.slice(0, c0, c1).t());
    if (!s.device().is_cpu() || s.scalar_type() != torch::kFloat) s = s.to(torch::kCPU).to(torch::kFloat).contiguous();
    float* sp = s.data_ptr<float>();
    at::parallel_for(0, m, 64, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        float* row = sp + r * nb;
        const int32_t* hist = set.history[idx[r]];
        for (int64_t i = 0; i < set.history_len[idx[r]]; ++i) {
          const int64_t j = hist[i];
          if (j >= c0 && j < c1 && (reference || j != answers[r])) row[j - c0] = excluded;
        }
        if (!reference) {
          if (c0 == 0) row[0] = excluded;
          if (c1 == v) row[nb - 1] = excluded;
        }
        const float tr = t[r];
        int64_t above = 0, equal = 0;
        for (int64_t j = 0; j < nb; ++j) {
          above += row[j] > tr;
          equal += row[j] == tr;
        }
        // The answer's own column is not a competitor.
        const int64_t a = answers[r];
        if (a >= c0 && a < c1) {
          above -= row[a - c0] > tr;
          equal -= row[a - c0] == tr;
        }
        higher[r] += above;
        tied[r] += equal;
        if (!top) continue;
        float* ts = top_score.data() + r * top_k;
        int32_t* ti = top->data() + r * top_k;
        for (int64_t j = std::max<int64_t>(c0, 1); j < std::min(c1, v - 1); ++j) {
          const float sc = row[j - c0];
          if (!(sc > ts[top_k - 1])) continue;
          int64_t p = top_k - 1;
          for (; p > 0 && sc > ts[p - 1]; --p) {
            ts[p] = ts[p - 1];
            ti[p] = ti[p - 1];
          }
          ts[p] = sc;
          ti[p] = static_cast<int32_t>(j);
        }
      }
    });
  }
  return ranked(v - 1);
}

EvalResult RankingEvaluator::evaluate(Model& model, const Dataset& data, const EvalSet& recorded) {
  auto start = std::chrono::steady_clock::now();
  const EvalSet set =
      options_.shuffled_history ? shuffle_histories(recorded, model.max_len(), options_.seed, options_.keep_last) : recorded;
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  if (options_.candidates != Candidates::kFull) candidates_ = sample_candidates(data, set);
  const int64_t max_len = model.max_len();
  torch::Tensor items = model.item_table().detach();
  const torch::Device device = items.device();
  // Group users by their cut input length: each group is encoded without any padding, so a
  // user's representation does not depend on who shares the block.
  // Data parallel: each rank ranks its share of the users, then the ranks are summed over the
  // ranks (each user's entry is non-zero on one rank only).
  std::vector<std::vector<int64_t>> by_len(max_len + 1);
  for (size_t i = 0; i < set.users.size(); ++i)
    if (dist::owns(static_cast<int64_t>(i))) by_len[std::min(max_len, set.history_len[i])].push_back(static_cast<int64_t>(i));
  EvalResult result;
  result.users = set.users;
  result.ranks.assign(set.users.size(), 0);
  result.tied.assign(set.users.size(), 0);
  const bool lists = set.stage == Stage::kTest && options_.candidates == Candidates::kFull && !options_.ks.empty();
  if (lists) {
    result.top.k = *std::max_element(options_.ks.begin(), options_.ks.end());
    result.top.items.assign(set.users.size() * result.top.k, 0);
  }
  std::vector<int32_t> top;
  int64_t n = 0;
  for (const auto& group : by_len) n += static_cast<int64_t>(group.size());
  Progress progress(set.stage == Stage::kValid ? "validation" : "test", n, "users");
  int64_t done = 0;
  for (const auto& group : by_len) {
    for (size_t g = 0; g < group.size(); g += options_.user_block) {
      std::vector<int64_t> idx(group.begin() + g, group.begin() + std::min(group.size(), g + options_.user_block));
      Batch batch = make_eval_batch(set, idx, max_len);
      torch::Tensor h =
          model.encode_last_users(batch.inputs.to(device), batch.position_offset, rows_tensor(batch.users, device)).contiguous();
      const BlockRanks r = rank_block(h, items, set, idx, lists ? &top : nullptr, result.top.k);
      for (size_t i = 0; i < idx.size(); ++i) {
        result.ranks[idx[i]] = r.ranks[i];
        result.tied[idx[i]] = r.tied[i];
        if (lists) std::copy_n(top.begin() + i * result.top.k, result.top.k, result.top.items.begin() + idx[i] * result.top.k);
      }
      done += static_cast<int64_t>(idx.size());
      progress.update(done, static_cast<double>(done));
    }
  }
  if (was_training) model.train();
  if (dist::active()) {
    std::vector<torch::Tensor> parts;
    for (std::vector<int64_t>* v : {&result.ranks, &result.tied})
      parts.push_back(torch::from_blob(v->data(), {static_cast<int64_t>(v->size())}, torch::kLong));
    if (lists) parts.push_back(torch::from_blob(result.top.items.data(), {static_cast<int64_t>(result.top.items.size())}, torch::kInt));
    dist::all_reduce_sum(parts);
  }
  result.metrics = metrics_from_ranks(result.ranks, options_.ks);
  if (lists) result.metrics.merge(exposure_metrics(result.top, options_.ks, training_popularity(data), data.num_items));
  result.label = options_.label();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

EvalOptions with_other_ties(EvalOptions o) {
  o.ties = o.ties == TieRule::kOptimistic ? TieRule::kPessimistic : TieRule::kOptimistic;
  return o;
}

EvalResult under_other_ties(const EvalResult& r, const EvalOptions& o) {
  if (r.tied.size() != r.ranks.size())
    throw Error(r.label + ": no tie counts beside the ranks (read from a rank file?)");
  const EvalOptions other = with_other_ties(o);
  EvalResult x = r;
  const int64_t sign = other.ties == TieRule::kPessimistic ? 1 : -1;
  for (size_t i = 0; i < x.ranks.size(); ++i) x.ranks[i] += sign * x.tied[i];
  x.metrics = metrics_from_ranks(x.ranks, o.ks);
  x.metrics.merge(std::map<std::string, double>(r.metrics));  // the exposure metrics: no rank metric is replaced
  x.label = other.label();
  return x;
}

std::string save_ranks(const EvalResult& r, const std::string& path) {
  const std::string bytes = with_checksum(h5::file_image([&](hid_t file) {
    h5::write_vec(file, "users", r.users);
    h5::write_vec(file, "ranks", r.ranks);
    h5::write_attr_string(file, "label", r.label);
  }));
  write_file_atomically(path, bytes);
  return hex_digits(fnv1a(bytes));
}

EvalResult load_ranks(const std::string& path) {
  std::string image = read_file(path);
  // Rank files written before they carried a checksum are read as they are; `table` checks
  // those against the checksum their result recorded, where it did.
  if (has_checksum(image)) image = checked_payload(std::move(image), path);
  h5::H5Handle file{h5::open_image(image), H5Fclose};
  if (file.id < 0) throw Error(path + ": not a readable HDF5 rank file");
  EvalResult r;
  try {
    if (!h5::read_vec(file.id, "users", &r.users) || !h5::read_vec(file.id, "ranks", &r.ranks))
      throw Error("lacks /users or /ranks");
    r.label = h5::read_attr_string(file.id, "label");
  } catch (const Error& e) {
    throw Error(path + ": damaged: " + e.what());
  }
  if (r.users.size() != r.ranks.size()) throw Error(path + ": damaged: /users and /ranks differ in length");
  for (int64_t rank : r.ranks)
    if (rank < 0) throw Error(path + ": damaged: negative rank " + std::to_string(rank));
  return r;
}

int64_t item_block_for(int64_t requested, int64_t rows, int64_t items, int64_t element_size, int64_t budget_bytes) {
  if (requested > 0) return requested;
  const int64_t row_bytes = std::max<int64_t>(1, rows) * element_size;
  if (row_bytes * items <= budget_bytes) return items;
  return std::min(items, std::max<int64_t>(1024, budget_bytes / row_bytes));
}

std::vector<double> normalised_spectrum(const torch::Tensor& table) {
  torch::NoGradGuard no_grad;
  torch::Tensor rows = table.detach().slice(0, 1, table.size(0) - 1).to(torch::kCPU, torch::kDouble);
  torch::Tensor sv = torch::linalg_svdvals(rows);
  sv = sv / sv.max().clamp_min(1e-300);
  return std::vector<double>(sv.data_ptr<double>(), sv.data_ptr<double>() + sv.numel());
}

}  // namespace seqrec
