#pragma once
/// The item-item similarity CoSeRec's insert and substitute augmentations draw from: offline,
/// ItemCF-IUF over the training inputs; after a warm-up, also online, the dot products of
/// the model's item embeddings, the more similar of the two (each min-max normalised over
/// all its pairs) winning, as CoSeRec's code does.
#include <torch/types.h>

#include <cstdint>
#include <random>
#include <vector>

#include "seqrec/dataset.h"

namespace seqrec {

class ItemSimilarity {
 public:
  /// ItemCF-IUF (CoSeRec's offline model) over every user's training input s[0..t-2], each
  /// user's items counted once: C[i][j] = sum over users holding both of 1 / ln(1 + |I_u|),
  /// sim = C[i][j] / sqrt(N[i] N[j]) with N the number of users holding an item.
  explicit ItemSimilarity(const Dataset& data);
  /// Online similarity from here on: every row of `item_table` [item_size, d] against every
  /// other (padding and mask rows too, as the reference), by dot product.
  void set_online(const torch::Tensor& item_table);
  /// The online neighbours and their normalised scores, undefined before set_online: a
  /// training state keeps them, as the table they came from has moved on since.
  std::pair<torch::Tensor, torch::Tensor> online() const;
  void restore_online(const torch::Tensor& top, const torch::Tensor& score);
  /// The item most similar to `item` (offline, or the better of offline and online); an item
  /// with no offline neighbour draws one uniformly from the items that have neighbours (the
  /// reference's random pick). Tied offline neighbours go to the pair met first in the log
  /// (users in order, each user's items in order), as the reference's dicts and stable sort.
  int32_t most_similar(int32_t item, std::mt19937_64& rng) const;
  /// Offline neighbour and its raw ItemCF-IUF score (0 if none), for tests.
  std::pair<int32_t, double> offline(int32_t item) const { return {top_[item], score_[item]}; }

 private:
  std::vector<int32_t> top_, online_top_;      // per item id: best neighbour (0: none)
  std::vector<double> score_, online_score_;   // its score; raw offline, normalised online
  double min_ = 0, max_ = 0;                   // over every offline pair
  std::vector<int32_t> known_;                 // items with an offline neighbour
};

}  // namespace seqrec
