#pragma once
/// S3Rec's pre-training (Zhou et al., CIKM 2020), after aHuiWang/CIKM2020-S3Rec (models.py
/// S3RecModel.pretrain, datasets.py PretrainDataset, trainers.py PretrainTrainer): SASRec's
/// encoder run without the causal mask on sequences with masked items and segments, trained
/// on four objectives over the item attributes (associated attribute prediction AAP, masked
/// item prediction MIP, masked attribute prediction MAP, segment prediction SP). The weights
/// it saves start a SASRec run (`--init`), as the authors fine-tune.
///
/// Kept as the reference has them: every loss is BCE on sigmoid outputs (a saturated sigmoid
/// passes no gradient), summed over the batch; MIP and SP compare sigmoid scores through one
/// more sigmoid; the last position of every sample is always masked; a negative item may be
/// the mask token; negative segments come from every user's whole sequence, validation and
/// test items included (`s3rec.segments train` keeps them out). The padding mask is -10000
/// where the reference's is -1e8: both vanish in the softmax.
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include <random>
#include <string>
#include <vector>

#include "baselines/sasrec/sasrec.h"
#include "seqrec/dataset.h"
#include "seqrec/trainer.h"

namespace seqrec {

/// Items' attributes as a multi-hot table [item_size, num_attributes] (float): row i holds
/// item i's attributes from an item2attributes JSON ({"item id": [attribute ids]}, the
/// S3Rec repositories' files). Attribute ids are the file's (column 0 stays unused when they
/// start at 1); items missing from the file, padding and the mask token get empty rows.
torch::Tensor read_item_attributes(const std::string& path, const Dataset& data);

/// SASRec with S3Rec's pre-training heads; its state dict has the authors' names, so their
/// pre-training checkpoints load into it whole. encode() is SASRec's (causal).
class S3Rec : public SASRec {
 public:
  S3Rec(const SASRecOptions& o, torch::Tensor item_attributes);
  /// The encoder without the causal mask (padding keys hidden): [B, W, d], or the last
  /// column's [B, d] when `last_only`.
  torch::Tensor encode_bidirectional(const torch::Tensor& seqs, int64_t position_offset, bool last_only = false) {
    return encode_masked(seqs, position_offset, /*causal=*/false, last_only);
  }
  std::string kind() const override { return "s3rec"; }
  int64_t mask_id() const { return options().item_size() - 1; }
  const torch::Tensor& item_attributes() const { return item_attributes_; }
  /// Moves the attribute table (not a parameter, so Module::to leaves it) to `device`.
  void attributes_to(torch::Device device) { item_attributes_ = item_attributes_.to(device); }

  torch::nn::Embedding attribute_embeddings{nullptr};
  torch::nn::Linear aap_norm{nullptr}, mip_norm{nullptr}, map_norm{nullptr}, sp_norm{nullptr};

 private:
  torch::Tensor item_attributes_;  ///< [item_size, A] multi-hot, not a parameter
};

struct S3RecOptions {
  TORCH_ARG(double, mask_prob) = 0.2;
  TORCH_ARG(double, aap_weight) = 0.2;
  TORCH_ARG(double, mip_weight) = 1.0;
  TORCH_ARG(double, map_weight) = 1.0;
  TORCH_ARG(double, sp_weight) = 0.5;
  /// Negative segments from the whole sequences (the reference) or the training items only.
  TORCH_ARG(bool, segments_from_training) = false;
};

/// One batch of pre-training inputs, each [B, W] left-padded: the sample with items masked,
/// the original items, the negative item at each masked position (the item itself
/// elsewhere), and for SP the sample with one segment masked, that segment alone and a
/// segment of the same length from the segment source (mask tokens around both).
struct S3RecInputs {
  torch::Tensor masked_items, pos_items, neg_items, masked_segment, pos_segment, neg_segment;
};

/// Draws the inputs of `samples` (each a whole sample, oldest first) as PretrainDataset does:
/// every position but the last masked with probability mask_prob, the last always; negatives
/// uniform over 1..item_size-1 (mask token included) outside the sample; for samples of two
/// or more items a segment of length k in [1, n/2] at a uniform start, its negative at a
/// uniform start of `segment_source`. W is the longest sample.
S3RecInputs draw_s3rec_inputs(const std::vector<std::vector<int64_t>>& samples, const std::vector<int32_t>& segment_source,
                              int64_t item_size, double mask_prob, std::mt19937_64& rng);

/// The four losses of one batch, each summed over it as the reference does.
struct S3RecLosses {
  torch::Tensor aap, mip, map, sp;
};
/// `position_offset`: the learned position of column 0 (max_len - W).
S3RecLosses s3rec_losses(S3Rec& model, const S3RecInputs& x, int64_t position_offset);

/// Pre-training on the run's examples: each batch row's input followed by its target is one
/// sample (with --examples window-prefixes, the reference's: every prefix of a user's last
/// max_len training items), each piece of a batch encoded at its own width. Adam on the
/// weighted sum of the four losses; the reported loss is that sum for the batch.
class S3RecPretrainer : public Trainer {
 public:
  explicit S3RecPretrainer(const S3RecOptions& o) : options_(o) {}
  void setup(TrainContext& ctx) override;
  torch::Tensor step(const Batch& batch) override;
  std::string name() const override { return "s3rec-pretrain"; }
  bool uses_loss() const override { return false; }
  bool hides_targets() const override { return true; }
  torch::optim::Optimizer* optimizer() const override { return optimizer_.get(); }
  /// The samples of one piece's rows: each row's items after its left padding, then its target.
  static std::vector<std::vector<int64_t>> samples_of(const Batch& piece);
  /// Where negative segments come from: every user's items in turn (s3rec.segments).
  const std::vector<int32_t>& segment_source() const { return segment_source_; }
  /// The last step's four losses (detached), for logs and checks.
  const S3RecLosses& last_losses() const { return last_; }
  void begin_epoch(int64_t epoch) override;
  /// Each loss's sum over the epoch's samples so far divided by their number (the authors'
  /// log divides by batches x batch size instead).
  std::string epoch_note() const override;
  /// The optimiser's state and the epoch's sums so far.
  void save_state(torch::serialize::OutputArchive& archive) const override;
  void load_state(torch::serialize::InputArchive& archive) override;

 private:
  S3RecOptions options_;
  TrainContext* ctx_ = nullptr;
  S3Rec* model_ = nullptr;
  std::vector<int32_t> segment_source_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  S3RecLosses last_;
  torch::Tensor epoch_sums_;  ///< [4] AAP, MIP, MAP, SP over the epoch so far, on the device (read at the epoch's end)
  int64_t epoch_samples_ = 0;
};

}  // namespace seqrec
