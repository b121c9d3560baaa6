#pragma once
/// The plugin ABI. A plugin is a shared library exporting two C symbols:
///   int  seqrec_plugin_abi_version(void);            // must return SEQREC_PLUGIN_ABI_VERSION
///   void seqrec_plugin_register(seqrec::PluginHost*); // adds keys and components
/// SEQREC_PLUGIN(fn) defines both around `void fn(seqrec::PluginHost&)`. The host checks the
/// version before calling anything else; a mismatch or a missing symbol is a clear error.
#include <string>
#include <vector>

#include "seqrec/command.h"
#include "seqrec/config.h"
#include "seqrec/dataset.h"
#include "seqrec/metric.h"
#include "seqrec/registry.h"

/// Bumped whenever PluginHost, the registries or the interfaces change incompatibly.
#define SEQREC_PLUGIN_ABI_VERSION 11

namespace seqrec {

/// What the host hands a plugin's register function.
struct PluginHost {
  int abi_version;
  const char* origin;  ///< the plugin's path: pass it as `origin` to the registries' add()
  Schema* schema;
  ModelRegistry* models;
  LossRegistry* losses;
  TrainerRegistry* trainers;
  SamplerRegistry* samplers;
  ImporterRegistry* importers;
  CommandRegistry* commands;  ///< `seqrec NAME ...` (command.h)
  FormatRegistry* formats;    ///< source formats (dataset.h); set `origin` in the value
  MetricRegistry* metrics;    ///< ranking metrics (metric.h); set `origin` in the value
};

/// A plugin's (or a built-in component's) registration function.
using RegisterFn = void (*)(PluginHost&);

/// A source registers its components with SEQREC_BUILTIN(fn) beside their code, and fn runs
/// with the PluginHost of whatever holds the source: register_builtins() calls those of the
/// baselines library (origin "builtin"), load_plugin() those of a plugin after its
/// SEQREC_PLUGIN function. So removing a baseline's folder removes its registration with it,
/// and one file works inside the tree and in a plugin alike.
struct BuiltinRegistration {
  explicit BuiltinRegistration(RegisterFn fn);
};
/// The registration functions added so far, in load order.
const std::vector<RegisterFn>& builtin_registrations();

/// Loads a plugin (dlopen), checks its ABI version and lets it register. Loading the same
/// path twice is a no-op. Throws seqrec::Error naming the path and the problem.
void load_plugin(const std::string& path);
/// Loads every `*.so` in `dir` (sorted by name); a missing directory is not an error.
void load_plugin_dir(const std::string& dir);
/// Paths of the plugins loaded so far.
const std::vector<std::string>& loaded_plugins();

}  // namespace seqrec

#define SEQREC_BUILTIN(register_fn) \
  static const ::seqrec::BuiltinRegistration seqrec_builtin_##register_fn { register_fn }

#define SEQREC_PLUGIN(register_fn)                                                              \
  extern "C" int seqrec_plugin_abi_version() { return SEQREC_PLUGIN_ABI_VERSION; }             \
  extern "C" void seqrec_plugin_register(seqrec::PluginHost* host) { register_fn(*host); }
