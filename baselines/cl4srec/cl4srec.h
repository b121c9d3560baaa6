#pragma once
/// Contrastive self-supervision (CL4SRec, Xie et al. ICDE 2022, as ICLRec's code runs it):
/// two augmented views of each training sequence, encoded by the model, pulled together by
/// InfoNCE against the batch's other views, beside any main loss and any encoder; and
/// ICLRec's intent contrast (Chen et al. WWW 2022): each view pulled towards the k-means
/// centroid ("intent") of its sequence, the sequences reclustered every epoch.
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "baselines/cl4srec/item_similarity.h"
#include "baselines/cl4srec/kmeans.h"
#include "seqrec/registry.h"
#include "seqrec/trainer.h"

namespace seqrec {

/// Where crop and reorder may start. kReference: start in [0, n-L-1] (ICLRec's and
/// CoSeRec's randint bound, so a window never reaches the last item); kUniform: [0, n-L].
enum class AugmentWindow { kReference, kUniform };
inline const EnumNames<AugmentWindow> kAugmentWindows = {{"reference", AugmentWindow::kReference},
                                                         {"uniform", AugmentWindow::kUniform}};
/// The id a masked item becomes. kPadding: 0 (the reference code: masked items then vanish
/// from attention like padding); kMask: the item table's mask row, item_size - 1.
enum class MaskId { kPadding, kMask };
inline const EnumNames<MaskId> kMaskIds = {{"padding", MaskId::kPadding}, {"mask", MaskId::kMask}};
/// The sequence representation InfoNCE compares. kFlatten: every position's output of the
/// max_len-wide view, concatenated (the reference's "concatenate", padding included); kMean:
/// the mean over those positions; kLast: the last position's (what the model ranks with).
enum class ViewRepresentation { kFlatten, kMean, kLast };
inline const EnumNames<ViewRepresentation> kViewRepresentations = {
    {"flatten", ViewRepresentation::kFlatten}, {"mean", ViewRepresentation::kMean}, {"last", ViewRepresentation::kLast}};

using ItemSimilarityPtr = const ItemSimilarity*;

struct AugmentOptions {
  TORCH_ARG(double, crop) = 0.2;     ///< kept share of the sequence (tao)
  TORCH_ARG(double, mask) = 0.7;     ///< masked share (gamma)
  TORCH_ARG(double, reorder) = 0.2;  ///< shuffled share (beta)
  TORCH_ARG(AugmentWindow, window) = AugmentWindow::kReference;
  TORCH_ARG(int64_t, mask_id) = 0;   ///< the id a masked item becomes
  TORCH_ARG(double, insert) = 0.4;      ///< share of positions that get a similar item before them
  TORCH_ARG(double, substitute) = 0.1;  ///< share of items replaced by a similar one
  /// Where insert and substitute find similar items (CoSeRec); null without them.
  TORCH_ARG(ItemSimilarityPtr, similar) = nullptr;
};

/// A sequence augmentation: a new sequence from `seq` (non-empty, time order).
using Augmentation = std::function<std::vector<int32_t>(const std::vector<int32_t>& seq, const AugmentOptions&, std::mt19937_64&)>;
/// The augmentations by name: crop (a contiguous window of floor(crop n) items, one item if
/// that is 0), mask (floor(mask n) distinct positions set to mask_id), reorder (a window of
/// floor(reorder n) items shuffled in place); CoSeRec's insert (max(1, floor(insert n))
/// distinct positions each get the item most similar to theirs inserted before them) and
/// substitute (max(1, floor(substitute n)) distinct items replaced by their most similar).
const std::map<std::string, Augmentation>& augmentations();

/// InfoNCE between two views z1, z2 [B, D] of the same B sequences (NT-Xent as the
/// reference's NCELoss): each of the 2B rows has its other view as the positive and the
/// 2B - 2 other rows of both views as negatives; similarity is the dot product (or cosine)
/// over `temperature`; the mean of the 2B cross-entropies.
torch::Tensor info_nce(const torch::Tensor& z1, const torch::Tensor& z2, double temperature, bool cosine);

struct ContrastiveOptions {
  TORCH_ARG(double, weight) = 0.1;       ///< of the contrastive term beside the main loss
  TORCH_ARG(double, temperature) = 1.0;
  TORCH_ARG(bool, cosine) = false;       ///< the reference's similarity is the dot product
  TORCH_ARG(std::vector<std::string>, augment) = std::vector<std::string>{"crop", "mask", "reorder"};
  /// Inputs of at most short_length items draw from augment_short instead (CoSeRec's
  /// augment_threshold); 0: no such set.
  TORCH_ARG(std::vector<std::string>, augment_short) = {};
  TORCH_ARG(int64_t, short_length) = 0;
  /// CoSeRec: from epoch similarity_warm_up + 2 on (the reference's 0-based epoch above it),
  /// insert and substitute also use the item embeddings, renewed every epoch.
  TORCH_ARG(int64_t, similarity_warm_up) = 160;
  TORCH_ARG(ViewRepresentation, representation) = ViewRepresentation::kFlatten;
  TORCH_ARG(AugmentOptions, augment_options) = {};
  /// ICLRec: weight of the intent term (0: CL4SRec), and its k-means.
  TORCH_ARG(double, intent_weight) = 0;
  TORCH_ARG(KMeansOptions, kmeans) = {};
};

/// One step: the main loss on the batch (any loss), then two views of each of its users'
/// training inputs (each view by an augmentation drawn uniformly from `augment`, its last
/// max_len items left-padded to max_len), encoded in one pass; loss = main + weight *
/// info_nce; one Adam step. Views come from the whole training input, as the reference's,
/// not from the batch's max_len window.
/// With an intent weight (ICLRec), each epoch begins by clustering every training user's
/// input (max_len wide, the model in eval mode, the mean over all positions) into k
/// intents, from the last epoch's centroids after the first; a step adds intent_weight x
/// the mean over both views of info_nce(view, its sequence's intent), the views encoded
/// again (mean over positions) and the intents (L2-normalised centroids) picked by the
/// nearest centroid of the un-augmented input's encoding (train mode, no gradient).
class ContrastiveTrainer : public Trainer {
 public:
  ContrastiveTrainer(std::string name, ContrastiveOptions o) : name_(std::move(name)), options_(std::move(o)) {}
  void setup(TrainContext& ctx) override;
  void begin_epoch(int64_t epoch) override;
  torch::Tensor step(const Batch& batch) override;
  std::string name() const override { return name_; }
  torch::optim::Optimizer* optimizer() const override { return optimizer_.get(); }
  void save_state(torch::serialize::OutputArchive& archive) const override;
  void load_state(torch::serialize::InputArchive& archive) override;
  /// The two views of `users` as one [2B, max_len] batch: rows 0..B-1 the first views.
  torch::Tensor views(const std::vector<int64_t>& users);
  /// The training inputs of `users`, their last max_len items left-padded to max_len.
  torch::Tensor inputs(const std::vector<int64_t>& users) const;
  /// The instance term of a views() batch of `users` (the model in its current mode).
  torch::Tensor contrastive_loss(const torch::Tensor& views, const std::vector<int64_t>& users);
  /// The intent term of a views() batch of `users` (needs begin_epoch's centroids).
  torch::Tensor intent_loss(const torch::Tensor& views, const std::vector<int64_t>& users);
  /// The intents' centroids [k, d] (undefined before the first epoch, or without intents).
  const torch::Tensor& centroids() const { return centroids_; }

 private:
  /// Rows' encodings, the mean over every position of the max_len-wide input; rows[i] is row
  /// i's user.
  torch::Tensor pooled(const torch::Tensor& seqs, const std::vector<int64_t>& rows);
  /// The model's encoding of views() of `users`.
  torch::Tensor encode_views(const torch::Tensor& views, const std::vector<int64_t>& users);
  std::string name_;
  ContrastiveOptions options_;
  TrainContext* ctx_ = nullptr;
  std::vector<const Augmentation*> augment_, augment_short_;
  std::unique_ptr<ItemSimilarity> similar_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  torch::Tensor centroids_;
};

}  // namespace seqrec
