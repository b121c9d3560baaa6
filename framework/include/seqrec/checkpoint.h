#pragma once
/// Checkpoints in PyTorch's zip format: `archive/data.pkl` (a pickled OrderedDict of
/// tensors) plus one raw little-endian record per storage. Reads the published reference
/// checkpoints (saved from CUDA) without Python, in the zip format and in the legacy one of
/// PyTorch before 1.6; writes zip files that Python's torch.load reads too. seqrec adds a
/// `seqrec.json` record naming the model and its options.
#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

#include "seqrec/model.h"

namespace seqrec {

/// Named tensors in file order, plus seqrec's metadata when present.
struct StateDict {
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  std::string metadata_json;  ///< contents of the seqrec.json record ("" for foreign files)
  const torch::Tensor* find(const std::string& name) const;
};

/// Reads a PyTorch checkpoint, zip or legacy (pre-1.6: a run of pickles, then the raw
/// storages; the magic number tells them apart). Supports the pickle subset a state dict uses (protocol
/// 2-4: dicts, OrderedDict, tuples, lists, ints, floats, strings, bools, None,
/// torch._utils._rebuild_tensor_v2 / _rebuild_parameter, persistent storage ids);
/// anything else is a clear seqrec::Error. Tensors are loaded to CPU.
StateDict read_state_dict(const std::string& path);

/// Writes a state dict (CPU copies of the tensors) and metadata atomically.
void write_state_dict(const std::string& path, const StateDict& sd);

/// The model's parameters and buffers, under their checkpoint names.
StateDict state_dict_of(Model& model);

/// What init_from did: the tensors it copied, the file's tensors the model lacks, and the
/// model's tensors the file lacks (left as initialised), each by name.
struct InitReport {
  std::vector<std::string> loaded, unused, kept;
};

/// Starting weights (--init): copies every tensor the model has by name; a shape that
/// differs is an Error before anything is copied. Unlike load_state_dict, either side may
/// hold tensors the other lacks (a pre-trained encoder under a fine-tuned model).
InitReport init_from(Model& model, const StateDict& sd);

/// Copies tensors into the model by name. Every model parameter must be present with the
/// right shape; names in the file the model lacks are returned (ignored by the caller).
std::vector<std::string> load_state_dict(Model& model, const StateDict& sd);

/// For checkpoint importers (registry.h): renames every tensor by the first rule whose pattern
/// (an ECMAScript regular expression) matches its whole name, to the rule's replacement ($1...
/// for the pattern's groups); a name no rule matches stays.
void rename_tensors(StateDict& sd, const std::vector<std::pair<std::string, std::string>>& rules);
/// Appends a row of zeros to the item table `name` where a reference implementation's has no
/// mask row (max item + 1 rows, against seqrec's num_items + 2): the strict protocol excludes
/// the row; the reference protocol scores it 0, like a history item. An Error if `sd` has no
/// such tensor.
void append_mask_row(StateDict& sd, const std::string& name = "item_embeddings.weight");

}  // namespace seqrec
