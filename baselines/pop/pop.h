#pragma once
/// Popularity: every user gets the same scores, the items' training counts. A Model with
/// one-dimensional representations (all ones) dotted with a [item_size, 1] count table, so
/// the common evaluator ranks it like any encoder. Nothing to train.
#include "seqrec/dataset.h"
#include "seqrec/model.h"

namespace seqrec {

class PopModel : public Model {
 public:
  /// Counts every item in each user's training part (all but the last two items).
  explicit PopModel(const Dataset& data, int64_t max_len);
  torch::Tensor encode(const torch::Tensor& seqs, int64_t position_offset) override;
  torch::Tensor item_table() override { return counts_; }
  int64_t max_len() const override { return max_len_; }
  std::string options_json() const override;
  std::string kind() const override { return "pop"; }

 private:
  torch::Tensor counts_;
  int64_t max_len_;
};

}  // namespace seqrec
