#pragma once
/// Beyond-accuracy metrics: what a ranking does to the items' exposure, from every user's
/// top-k list (the set Elliot and RecBole report). A test evaluation with full ranking keeps
/// the lists (evaluator.h) and every result reports these beside HIT, NDCG and MRR.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace seqrec {

/// Every user's top `k` items, best first, row-major [users x k]; id 0 fills a list shorter
/// than k (a catalogue with fewer recommendable items). Equal scores: the lower id first.
struct TopLists {
  int64_t k = 0;
  std::vector<int32_t> items;
};

/// For each k of `ks` (at most lists.k), with `popularity` the training count of each item id
/// (index 0..num_items; training_popularity) and N its total:
///   coverage@k  share of the num_items catalogue items in at least one top-k list;
///   gini@k      Gini index of the items' exposure (times in a top-k list), all num_items
///               items counted: 0 = every item shown equally often, near 1 = a few take all;
///   avgpop@k    mean over users of the mean training count of their list's items (ARP);
///   novelty@k   mean over users of the mean self-information -log2 p of their list's items,
///               p = (count + 1) / (N + num_items) (add-one, so an item unseen in training
///               is finite and the most novel).
std::map<std::string, double> exposure_metrics(const TopLists& lists, const std::vector<int64_t>& ks,
                                               const std::vector<double>& popularity, int64_t num_items);
/// "coverage@5", "gini@5", "avgpop@5", "novelty@5", "coverage@10", ... for `ks`.
std::vector<std::string> exposure_metric_names(const std::vector<int64_t>& ks);
/// Whether `name` ("gini@10") is one of them: a property of the lists, with no per-user value
/// to test pairwise.
bool is_exposure_metric(const std::string& name);

}  // namespace seqrec
