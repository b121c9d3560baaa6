#include "seqrec/plugin.h"

#include "seqrec/command.h"

#include <dlfcn.h>

#include <algorithm>
#include <filesystem>

#include "seqrec/error.h"

namespace seqrec {
namespace {
std::vector<std::string>& loaded() {
  static std::vector<std::string> v;
  return v;
}
}  // namespace

const std::vector<std::string>& loaded_plugins() { return loaded(); }

namespace {
std::vector<RegisterFn>& builtins() {
  static std::vector<RegisterFn> v;
  return v;
}
}  // namespace

BuiltinRegistration::BuiltinRegistration(RegisterFn fn) { builtins().push_back(fn); }
const std::vector<RegisterFn>& builtin_registrations() { return builtins(); }

void load_plugin(const std::string& path) {
  namespace fs = std::filesystem;
  if (!fs::exists(path)) throw Error("plugin " + path + ": no such file");
  const std::string canonical = fs::canonical(path).string();
  if (std::find(loaded().begin(), loaded().end(), canonical) != loaded().end()) return;
  register_builtins();  // plugins may extend built-in keys; the schema must exist first
  const size_t builtins_before = builtins().size();  // the plugin's own SEQREC_BUILTINs come after
  void* handle = dlopen(canonical.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) throw Error("plugin " + path + ": cannot load: " + dlerror());
  using VersionFn = int (*)();
  using RegisterFn = void (*)(PluginHost*);
  auto version = reinterpret_cast<VersionFn>(dlsym(handle, "seqrec_plugin_abi_version"));
  auto reg = reinterpret_cast<RegisterFn>(dlsym(handle, "seqrec_plugin_register"));
  if (!version || !reg) {
    dlclose(handle);
    throw Error("plugin " + path + ": not a seqrec plugin (missing seqrec_plugin_abi_version or seqrec_plugin_register)");
  }
  const int v = version();
  if (v != SEQREC_PLUGIN_ABI_VERSION) {
    dlclose(handle);
    throw Error("plugin " + path + ": built for plugin ABI " + std::to_string(v) + ", this seqrec has ABI " +
                std::to_string(SEQREC_PLUGIN_ABI_VERSION) + "; rebuild the plugin against these headers");
  }
  PluginHost host{SEQREC_PLUGIN_ABI_VERSION, canonical.c_str(), &schema(), &models(), &losses(), &trainers(), &samplers(), &importers(), &commands(),
                  &formats(), &metrics()};
  try {
    reg(&host);  // the handle stays open for the life of the process
    for (size_t i = builtins_before; i < builtins().size(); ++i) builtins()[i](host);
  } catch (const Error& e) {
    throw Error("plugin " + path + ": " + e.what());
  }
  loaded().push_back(canonical);  // only once its registration has succeeded
}

void load_plugin_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) return;
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".so") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) load_plugin(f);
}

}  // namespace seqrec
