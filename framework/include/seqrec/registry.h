#pragma once
/// Registries map names to factories. Built-in components register in register_builtins(),
/// the baselines through the PluginHost API that plugins use (plugin.h).
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "seqrec/checkpoint.h"
#include "seqrec/config.h"
#include "seqrec/dataset.h"
#include "seqrec/error.h"
#include "seqrec/loss.h"
#include "seqrec/model.h"
#include "seqrec/sampler.h"

namespace seqrec {

class Trainer;

/// A named factory with its help text and origin ("builtin" or a plugin path).
template <typename T, typename... Args>
class Registry {
 public:
  using Factory = std::function<T(Args...)>;
  struct Entry {
    Factory make;
    std::string help;
    std::string origin;
    /// What the component needs of the run's other keys, e.g. {"trainer", "cloze"} for a
    /// model only the cloze strategy trains: naming the component sets them where the run
    /// left them at their defaults (apply_component_defaults), and check_needs() refuses
    /// another value given explicitly.
    std::map<std::string, std::string> needs;
    /// What naming the component sets where the run left a key at its default, another value
    /// given explicitly being fine (ELECRec's trainer: padded batches).
    std::map<std::string, std::string> defaults;
  };
  /// Adds `name`; a name registered before (by the built-ins or another plugin) is an Error
  /// naming both origins, never a silent replacement.
  void add(const std::string& name, Factory make, const std::string& help, const std::string& origin = "builtin",
           std::map<std::string, std::string> needs = {}, std::map<std::string, std::string> defaults = {}) {
    auto [it, added] = entries_.try_emplace(name, Entry{std::move(make), help, origin, std::move(needs), std::move(defaults)});
    if (!added) throw Error("'" + name + "' is registered twice: by " + it->second.origin + " and by " + origin);
  }
  bool has(const std::string& name) const { return entries_.count(name) > 0; }
  T create(const std::string& kind, const std::string& name, Args... args) const;
  const std::map<std::string, Entry>& entries() const { return entries_; }

 private:
  std::map<std::string, Entry> entries_;
};

/// What a model factory gets: the resolved config and the catalogue size.
struct ModelContext {
  const Config& config;
  const Dataset& data;  ///< the training data (item_size() = num_items + 2 table rows)
};

using ModelRegistry = Registry<std::shared_ptr<Model>, const ModelContext&>;
using LossRegistry = Registry<std::unique_ptr<Loss>, const Config&>;
using TrainerRegistry = Registry<std::unique_ptr<Trainer>, const Config&>;
using SamplerRegistry = Registry<std::unique_ptr<NegativeSampler>, const Config&, const Dataset&>;
/// A checkpoint importer reads, off a state dict saved without seqrec's metadata (a reference
/// implementation's), the keys that rebuild its model (model, sizes, max-len), and rewrites
/// the dict into that model's tensor names and shapes; one that does not know the dict returns
/// an empty map and leaves it alone. `seqrec eval` and `--init` ask each in name order.
using ImporterRegistry = Registry<std::map<std::string, std::string>, StateDict&>;

ModelRegistry& models();
LossRegistry& losses();
TrainerRegistry& trainers();
SamplerRegistry& samplers();
ImporterRegistry& importers();

/// What import_foreign found: the importer that knows the dict ("" and no keys: none does)
/// and the keys it read off it, `model` always among them.
struct ForeignImport {
  std::string importer;
  std::map<std::string, std::string> keys;
};
/// Asks each importer in name order, each on its own copy of `sd` (so one that declines after
/// all cannot leave a half-rewritten dict); the first that knows it wins and `sd` becomes its
/// rewrite, in the model's names and shapes.
ForeignImport import_foreign(StateDict& sd);

/// Registers the framework's keys and components, then calls every SEQREC_BUILTIN
/// registration (the baselines) with a PluginHost of origin "builtin" (idempotent).
void register_builtins();

/// Checks what the model, trainer, loss and sampler `c` names declare they need (their
/// entries' `needs`): an Error in one line naming the component, the key and both values.
void check_needs(const Config& c);
/// A named model, trainer, loss and sampler (in that order, so a model's trainer brings its
/// own) set their `needs` and `defaults` on every key the run left at its default: naming a
/// model is enough to train it. The keys' source reads "--model NAME" (say).
void apply_component_defaults(Config& c);

/// Lists every registered component, for `seqrec list`.
std::string describe_registries();

template <typename T, typename... Args>
T Registry<T, Args...>::create(const std::string& kind, const std::string& name, Args... args) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    std::string known;
    for (const auto& [k, v] : entries_) known += (known.empty() ? "" : ", ") + k;
    throw Error("unknown " + kind + " '" + name + "' (registered: " + known + ")");
  }
  return it->second.make(args...);
}

}  // namespace seqrec
