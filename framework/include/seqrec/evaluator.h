#pragma once
/// The one evaluator every number in seqrec comes from: rank each user's held-out item
/// against the catalogue (or a sampled candidate set), then HIT@K, NDCG@K and MRR.
#include <map>
#include <string>
#include <vector>

#include "seqrec/batch.h"
#include "seqrec/config.h"
#include "seqrec/exposure.h"
#include "seqrec/model.h"

namespace seqrec {

/// History exclusion. kReference: history items scored 0, padding and mask rows kept as
/// candidates (the papers' code). kStrict: history items (other than the answer), the
/// padding row and the mask row scored -inf.
enum class Protocol { kReference, kStrict };
/// Ties with the answer's score. kOptimistic: rank = #items scored strictly higher
/// (the golden values' rule). kPessimistic: rank = #other items scored higher or equal.
enum class TieRule { kOptimistic, kPessimistic };
/// Candidate set: the whole catalogue, or the answer plus 100 sampled negatives drawn
/// uniformly (uni100) or by training popularity (pop100) among items outside the history.
enum class Candidates { kFull, kUniform100, kPopularity100 };

/// The keys' choices: --protocol, --ties, --candidates, --stage (valid, test) and
/// --history-order (original: false, shuffled: true).
const EnumNames<Protocol>& protocol_names();
const EnumNames<TieRule>& tie_rule_names();
const EnumNames<Candidates>& candidates_names();
const EnumNames<Stage>& stage_names();
const EnumNames<bool>& history_order_names();
std::string protocol_name(Protocol p);
std::string tie_rule_name(TieRule t);

struct EvalOptions {
  Protocol protocol = Protocol::kReference;
  TieRule ties = TieRule::kOptimistic;
  Candidates candidates = Candidates::kFull;
  std::vector<int64_t> ks{5, 10, 20};
  int64_t user_block = 1024;  ///< users encoded and scored together
  int64_t item_block = 0;     ///< catalogue columns scored together (0 = all, unless past 256 MiB)
  uint64_t seed = 1;          ///< for the sampled candidate sets and shuffled histories
  /// The sequentiality check: histories permuted within the model's input (shuffle_histories).
  bool shuffled_history = false;
  bool keep_last = false;     ///< with shuffled_history: the last item stays last
  /// Label written beside every metric table, e.g. "full/reference/optimistic", with
  /// "/shuffled" (or "/shuffled-keep-last") for shuffled histories.
  std::string label() const;
};
EvalOptions eval_options_from(const Config& c);
/// `o` with the other tie rule.
EvalOptions with_other_ties(EvalOptions o);
void declare_eval_keys(Schema& s);

/// Catalogue columns scored together, the one rule of --item-block (the full-softmax losses)
/// and --eval-item-block: `requested` when set (> 0), else all `items` unless `rows` x items
/// scores of `element_size` bytes would pass `budget_bytes`, then the columns that fit (at
/// least 1,024). The budget is 256 MiB but for the losses' CPU path (softmax_ce.cpp).
constexpr int64_t kItemBlockBudgetBytes = 256LL << 20;
int64_t item_block_for(int64_t requested, int64_t rows, int64_t items, int64_t element_size,
                       int64_t budget_bytes = kItemBlockBudgetBytes);

/// The embedding-diversity diagnostic: singular values of the item rows of `table` (padding
/// row 0 and the last, mask row, left out), divided by the largest. Flatter = more diverse.
std::vector<double> normalised_spectrum(const torch::Tensor& table);

/// Per-user ranks (0-based) and the metrics derived from them.
struct EvalResult {
  std::vector<int64_t> users;  ///< dataset rows
  std::vector<int64_t> ranks;  ///< rank of the answer under the options' tie rule, same order as users
  /// Other candidates scored exactly as the answer, same order as users: under the other tie
  /// rule the rank is ranks + tied (optimistic -> pessimistic) or ranks - tied. 0 for a
  /// non-finite answer score, which ranks last under both.
  std::vector<int64_t> tied;
  std::map<std::string, double> metrics;  ///< "hit@5", "ndcg@5", ..., "mrr" (and exposure.h's)
  TopLists top;  ///< each user's top-max(ks) list, same order as users (test with full ranking)
  std::string label;
  double seconds = 0;
};

/// Every registered metric (metric.h) from ranks, as means over users: hit@k = mean[rank < k],
/// ndcg@k = mean[rank < k] / log2(rank + 2), mrr = mean 1 / (rank + 1), then any others.
std::map<std::string, double> metrics_from_ranks(const std::vector<int64_t>& ranks, const std::vector<int64_t>& ks);

/// `r` (evaluated under `o`) under the other tie rule, from its tie counts, without scoring
/// again: ranks moved by `tied`, the rank metrics recomputed, the exposure metrics kept (top
/// lists break ties by id under either rule), the label naming the other rule.
EvalResult under_other_ties(const EvalResult& r, const EvalOptions& o);

/// "HIT@5 0.0703  NDCG@5 0.0503 ... MRR 0.0401" with 4 decimals, in metric_names order, then
/// the exposure metrics at the largest k, when `m` holds them.
std::string format_metrics(const std::map<std::string, double>& m, const std::vector<int64_t>& ks);

/// Scores representations against the catalogue and ranks the answers: full ranking (or
/// sampled candidates), block-wise with bounded memory:
/// at most user_block x item_block scores exist at a time. Users are grouped by input
/// length so each is encoded without padding, and results do not depend on block sizes.
/// A test evaluation with full ranking also keeps every user's top-max(ks) list under the
/// protocol's scores (padding and mask rows never listed; strict drops the history) and
/// reports the exposure metrics (exposure.h) beside the rank metrics.
class RankingEvaluator {
 public:
  explicit RankingEvaluator(const EvalOptions& o) : options_(o) {}
  EvalResult evaluate(Model& model, const Dataset& data, const EvalSet& set);
  /// Ranks and tie counts (as EvalResult's) for given representations [M, d] against item
  /// table [V, d]. `idx` selects the users of `set` (same order as rows of h). With `top`
  /// (full ranking only), also each row's top-`top_k` list, row-major [M x top_k].
  struct BlockRanks {
    std::vector<int64_t> ranks, tied;
  };
  BlockRanks rank_block(const torch::Tensor& h, const torch::Tensor& items, const EvalSet& set,
                        const std::vector<int64_t>& idx, std::vector<int32_t>* top = nullptr, int64_t top_k = 0) const;
  const EvalOptions& options() const { return options_; }

 private:
  /// Candidate ids per user for sampled protocols, [M][100].
  std::vector<std::vector<int32_t>> sample_candidates(const Dataset& data, const EvalSet& set) const;
  EvalOptions options_;
  std::vector<std::vector<int32_t>> candidates_;  // filled per evaluate() for sampled protocols
  mutable torch::Tensor scores_;                  // score buffer reused across blocks
};

/// Writes per-user ranks (and the eval label) to an HDF5 file (/users, /ranks) followed by
/// with_checksum's trailer. Returns the whole file's checksum (64-bit FNV-1a of its bytes,
/// 16 hex digits, as hash_file gives it), which the result JSON records for `table`.
std::string save_ranks(const EvalResult& r, const std::string& path);
/// Reads them back, verifying the trailer (a damaged file is one line naming it).
EvalResult load_ranks(const std::string& path);

}  // namespace seqrec
