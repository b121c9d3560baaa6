#pragma once
/// ELECRec (Chen, Li, Xiong, SIGIR 2022): train the recommender as a discriminator. A
/// generator G (SASRec, full-softmax CE) proposes items; the discriminator D (SASRec plus a
/// projection) learns which items of the target sequence were replaced; D is the final
/// model and ranks by dot product with its item table, like SASRec.
///
/// The model is D, with G registered under "generator", so D's parameter names are the
/// released checkpoints' (item_embeddings.weight, ..., dis_projection.weight). D's encoder
/// may also be FMLP-Rec's or BSARec's (elecrec.dis-encoder); G stays SASRec.
#include "baselines/frequency/frequency.h"
#include "baselines/sasrec/sasrec.h"
#include "seqrec/config.h"
#include "seqrec/registry.h"
#include "seqrec/trainer.h"

namespace seqrec::elecrec {

/// Which modules G and D share (D always keeps its embedding LayerNorm and projection).
enum class Sharing { kFull, kEmbedOnly, kEncoderOnly, kNone };
/// D's encoder: SASRec (the reference's), or one of the encoders built on SASRec's embeddings
/// and feed-forward blocks, which the elecrec.dis-* sizes and embedding sharing fit.
enum class DisEncoder { kSASRec, kFMLPRec, kBSARec };
/// D's head: affine Linear(d, 1), or sum(h) / temperature.
enum class ProjectType { kAffine, kSum };
/// Positions of D's loss: every real one, or only those offered a generated item.
enum class DisOpt { kFull, kMaskOnly };
/// Positions and weights of G's CE (elecrec.gen-loss-padding; declare_elecrec_keys says each).
enum class GenLossPadding { kInclude, kIncludePieces, kReferenceWeight, kMask };
inline const EnumNames<Sharing> kSharings = {{"full", Sharing::kFull},
                                             {"embed_only", Sharing::kEmbedOnly},
                                             {"encoder_only", Sharing::kEncoderOnly},
                                             {"none", Sharing::kNone}};
inline const EnumNames<DisEncoder> kDisEncoders = {
    {"sasrec", DisEncoder::kSASRec}, {"fmlprec", DisEncoder::kFMLPRec}, {"bsarec", DisEncoder::kBSARec}};
inline const EnumNames<ProjectType> kProjectTypes = {{"affine", ProjectType::kAffine}, {"sum", ProjectType::kSum}};
inline const EnumNames<DisOpt> kDisOpts = {{"full", DisOpt::kFull}, {"mask_only", DisOpt::kMaskOnly}};
inline const EnumNames<GenLossPadding> kGenLossPaddings = {{"include", GenLossPadding::kInclude},
                                                           {"include-pieces", GenLossPadding::kIncludePieces},
                                                           {"reference-weight", GenLossPadding::kReferenceWeight},
                                                           {"mask", GenLossPadding::kMask}};

/// Every option of the reference recipe; defaults are the reference code's main.py.
struct ElecRecOptions {
  ElecRecOptions(SASRecOptions gen, SASRecOptions dis) : gen_(gen), dis_(dis) {}
  TORCH_ARG(SASRecOptions, gen);
  TORCH_ARG(SASRecOptions, dis);
  TORCH_ARG(DisEncoder, dis_encoder) = DisEncoder::kSASRec;
  TORCH_ARG(FrequencyOptions, frequency);  ///< a BSARec D's c and alpha
  TORCH_ARG(Sharing, sharing) = Sharing::kEmbedOnly;
  TORCH_ARG(double, sample_ratio) = 0.7;       ///< share of positions offered a generated item
  TORCH_ARG(double, prob_power) = 1.0;         ///< sample from softmax^power
  TORCH_ARG(double, item_sample_ratio) = 1.0;  ///< share of the catalogue that forms the candidates
  TORCH_ARG(double, gen_loss_weight) = 1.0;
  TORCH_ARG(double, dis_loss_weight) = 0.5;
  TORCH_ARG(ProjectType, project_type) = ProjectType::kAffine;
  TORCH_ARG(double, temperature) = 1.0;
  TORCH_ARG(DisOpt, dis_opt) = DisOpt::kFull;
  TORCH_ARG(GenLossPadding, gen_loss_padding) = GenLossPadding::kInclude;  ///< kInclude: the reference (padded batches)
  TORCH_ARG(bool, double_step_shared) = true;            ///< Adam steps shared tensors twice (reference)
};

ElecRecOptions elecrec_options_from(const Config& c, int64_t item_size);
void declare_elecrec_keys(Schema& s);

/// D with G inside. encode()/item_table() are D's. D's encoder is not a child module: its
/// modules are registered on this model under their own names (a SASRec D's are the released
/// checkpoints'), G's under "generator".
class ElecRecModel : public Model {
 public:
  explicit ElecRecModel(const ElecRecOptions& o);
  torch::Tensor encode(const torch::Tensor& seqs, int64_t position_offset) override {
    return discriminator->encode(seqs, position_offset);
  }
  torch::Tensor encode_last(const torch::Tensor& seqs, int64_t position_offset) override {
    return discriminator->encode_last(seqs, position_offset);
  }
  torch::Tensor item_table() override { return discriminator->item_table(); }
  int64_t max_len() const override { return discriminator->max_len(); }
  std::string kind() const override { return "elecrec"; }
  std::string options_json() const override;
  /// D's: a frequency encoder's D sees the whole sequence (the trainer allows it: D answers
  /// whether each item it sees is real, and G, trained on next items, is causal).
  bool causal() const override { return discriminator->causal(); }
  /// Also sets D's own flag, which Module::train does not reach.
  void train(bool on = true) override;
  /// D's replaced-item logit per position, [B, W].
  torch::Tensor discriminate(const torch::Tensor& hidden);
  const ElecRecOptions& elecrec_options() const { return options_; }

  std::shared_ptr<Model> discriminator;
  std::shared_ptr<SASRec> generator;
  torch::nn::Linear dis_projection{nullptr};

 private:
  ElecRecOptions options_;
};

/// The generator-discriminator training strategy (one Adam over G and D).
class ElecRecTrainer : public Trainer {
 public:
  void setup(TrainContext& ctx) override;
  torch::Tensor step(const Batch& batch) override;
  std::string name() const override { return "elecrec"; }
  torch::optim::Optimizer* optimizer() const override { return optimizer_.get(); }
  bool data_parallel() const override { return true; }
  bool uses_loss() const override { return false; }
  /// D's answers are whether the items it sees are real, not items of its input's future, and
  /// G, the part trained on next items, is SASRec and causal: any D may train on whole
  /// sequences.
  bool hides_targets() const override { return true; }

  /// Parameters handed to Adam: G's then D's, shared tensors listed twice when
  /// double_step_shared (so Adam updates them twice per step, as the reference does), else once.
  static std::vector<torch::Tensor> optimiser_parameters(ElecRecModel& m, bool double_step_shared);

 private:
  TrainContext* ctx_ = nullptr;
  ElecRecModel* model_ = nullptr;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
};

/// Registers the model, the trainer and the elecrec.* keys.
void register_elecrec(ModelRegistry& models, TrainerRegistry& trainers, Schema& schema, const std::string& origin);

}  // namespace seqrec::elecrec
