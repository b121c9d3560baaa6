// seqrec eval: a checkpoint (seqrec's, or a reference implementation's state dict that a
// registered importer recognises) evaluated on a dataset's validation or test users.
#include <chrono>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <ostream>

#include "seqrec/checkpoint.h"
#include "seqrec/command.h"
#include "seqrec/distributed.h"
#include "seqrec/error.h"
#include "seqrec/evaluator.h"
#include "seqrec/experiment.h"
#include "seqrec/options.h"
#include "seqrec/plugin.h"
#include "seqrec/provenance.h"
#include "seqrec/registry.h"
#include "seqrec/run_result.h"

namespace seqrec {
namespace {

/// Whether a checkpoint's recorded key rebuilds its model: the model's name, and the keys
/// declared as architecture (KeySpec::architecture). Protocol, loss and training keys are the
/// evaluation's own.
bool is_model_key(const std::string& k) {
  const KeySpec* spec = schema().find(k);
  return k == "model" || (spec && spec->is_architecture);
}

/// The run's config with what the checkpoint says of its model: seqrec's recorded
/// architecture keys, or the keys a registered importer reads off a foreign state dict (which
/// it rewrites into the model's names and shapes). A key given on the command line wins.
Config checkpoint_config(const Config& cli, StateDict& sd, std::ostream& out) {
  Config c = cli;
  if (!sd.metadata_json.empty()) {
    nlohmann::json meta = nlohmann::json::parse(sd.metadata_json);
    for (const auto& [k, v] : meta.at("config").items())
      if (is_model_key(k) && cli.source(k) != "command line") c.set(k, v.get<std::string>(), "checkpoint");
    return c;
  }
  const ForeignImport imported = import_foreign(sd);
  if (imported.keys.empty()) {
    std::string known;
    for (const auto& [name, importer] : importers().entries()) known += (known.empty() ? "" : ", ") + name;
    throw Error(cli.str("checkpoint") + ": no seqrec metadata, and no checkpoint importer recognises its tensors (registered: " +
                (known.empty() ? "none" : known) + ")");
  }
  out << cli.str("checkpoint") << ": no seqrec metadata; read by the " << imported.importer << " importer as "
      << imported.keys.at("model") << std::endl;
  for (const auto& [k, v] : imported.keys)
    if (cli.source(k) != "command line") c.set(k, v, "checkpoint");
  return c;
}

int run_eval(const CommandArgs& a, std::ostream& out) {
  const Config& cli = a.options;
  const std::string checkpoint = cli.str("checkpoint");
  if (checkpoint.empty()) throw Error("--checkpoint is required");
  auto t0 = std::chrono::steady_clock::now();
  StateDict sd = read_state_dict(checkpoint);
  const Config c = checkpoint_config(cli, sd, out);
  const RunOptions o = run_options_from(c);
  const Stage stage = c.choice("stage", stage_names());
  const std::string& stage_name = name_of(stage_names(), stage);
  LoadedData l = load_data(o.data);
  std::shared_ptr<Model> model = models().create("model", o.model, ModelContext{c, l.data});
  model->to(torch::Device(o.train.device));
  std::vector<std::string> unused;
  try {
    unused = load_state_dict(*model, sd);
  } catch (const Error& e) {
    throw Error(checkpoint + ": " + e.what() + " (a checkpoint of another dataset or configuration?)");
  }
  if (!unused.empty()) {
    out << "note: " << unused.size() << " checkpoint tensor(s) not used by " << o.model << ":";
    for (const auto& u : unused) out << " " << u;
    out << std::endl;
  }
  const EvalOptions& eo = o.eval;
  RankingEvaluator evaluator(eo);
  EvalResult r = evaluator.evaluate(*model, l.data, make_eval_set(l.data, stage));
  if (dist::rank() != 0) return 0;  // data parallel: rank 0 reports for the job
  double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out << stage_name << " [" << r.label << "]: " << format_metrics(r.metrics, eo.ks) << std::endl;
  const EvalResult other = under_other_ties(r, eo);
  out << stage_name << " [" << other.label << "]: " << format_metrics(other.metrics, eo.ks) << std::endl;
  out << std::fixed << std::setprecision(3) << "eval " << r.seconds << " s, total with loading " << total << " s"
      << std::endl;
  RunResult result = result_of_run(c, l, eo);
  result.command = "eval";
  if (!o.ranks.empty()) result.ranks_fnv1a = save_ranks(r, o.ranks);  // before the result, as in train
  result.checkpoint = checkpoint;
  result.stage = stage_name;
  result.test = rounded_metrics(r.metrics, eo.ks);
  result.test_other_ties = {{protocol_info(with_other_ties(eo), l.split), rounded_metrics(other.metrics, eo.ks)}};
  result.users = static_cast<int64_t>(r.users.size());
  result.eval_seconds = r.seconds;
  result.total_seconds = total;
  if (c.has("json")) write_run_result(c.str("json"), result);
  return 0;
}

void register_eval_command(PluginHost& host) {
  Command c;
  c.takes = Command::Takes::kRunKeys;
  c.synopsis = "--checkpoint FILE --data FILE [--key value ...] [--config FILE]";
  c.data_parallel = true;
  c.run = run_eval;
  host.commands->add("eval", [c] { return c; }, "evaluate a checkpoint (seqrec or PyTorch state dict)", host.origin);
}
SEQREC_BUILTIN(register_eval_command);

}  // namespace
}  // namespace seqrec
