// The help of the commands that take their own arguments rather than configuration keys
// (train, eval, prepare, demo and list print the key schema instead: config.h).
#include <map>

#include "seqrec/cli.h"

namespace seqrec {
namespace {

const std::map<std::string, std::string>& usages() {
  static const std::map<std::string, std::string> u = {
      {"bench",
       "usage: seqrec bench GRID.ini [--dry-run] [--shard i/n]\n"
       "  runs a grid of datasets x methods x seeds as train runs, each to a result JSON, its log and its\n"
       "  rank file under the grid's output; resumable: finished runs are skipped, stopped ones resume from\n"
       "  their training state, runs claimed by a live bench are left to it.\n"
       "  --dry-run      list the runs and which are finished, run nothing\n"
       "  --shard i/n    this process takes runs i, i+n, i+2n, ... of the grid's order\n"
       "grid file ([grid] section, key = value, # comments):\n"
       "  datasets = A, B          dataset names, substituted for {dataset}\n"
       "  methods = m1, m2         method names, substituted for {method}\n"
       "  seeds = 1, 2, 3          (default 1)\n"
       "  config = configs/{dataset}-{method}.ini\n"
       "  output = results/grids/NAME   runs go to {output}/{dataset}/{method}/seed{S}-{hash}.json\n"
       "  set = key=value; ...     overrides for every run (hashed)\n"
       "  threads = N              intra-op threads a run (default 0: one per core)\n"
       "  parallel = N             runs at a time (default 1)\n"
       "  ranks = N                each run as an N-process data-parallel job (default 1)\n"
       "  label = {method}-tuned   the runs' --label (default {method})\n"},
      {"table",
       "usage: seqrec table RESULTS... [options]\n"
       "  a comparison table from train result JSONs (files, or folders searched for *.json); NAME=PATH\n"
       "  names the runs under PATH as method NAME. Cells are means ± std over seeds; comparisons against\n"
       "  the baseline use the per-user rank files. ‡ marks a cell with a run that may have learned nothing:\n"
       "  its test ranking indistinguishable from popularity's (a popularity run of the table, else popularity\n"
       "  counted from the run's data), or its best validation inside the first patience window.\n"
       "  --metrics M,M...          (default hit@10,ndcg@10; exposure metrics such as gini@10 are shown, not tested)\n"
       "  --baseline METHOD         the method the others are compared with\n"
       "  --pairs A=B,C=D           row A compared with row B instead (e.g. a tuned row with its default)\n"
       "  --correction holm|bonferroni|none   over the table's comparisons (default holm)\n"
       "  --alpha A                 significance level (default 0.05)\n"
       "  --bootstrap N             paired bootstrap resamples of the users (default 1000)\n"
       "  --bootstrap-seed S        (default 1)\n"
       "  --other-protocol          the test under the other history protocol\n"
       "  --other-ties              the test under the other tie rule (optimistic <-> pessimistic)\n"
       "  --history original|shuffled   shuffled: the test with shuffled histories, and its change\n"
       "  --reference FILE.csv      published numbers as labelled rows (method,dataset,metric,value,source\n"
       "                            [,seqrec_method]: the row whose seeds each is tested against)\n"
       "  --wall                    a column of wall-clock minutes\n"
       "  --format md|csv|latex     (default md)\n"
       "  --output FILE             written atomically (default: standard output)\n"},
      {"plot",
       "usage: seqrec plot RESULTS... --output PREFIX [options]\n"
       "  learning curves, a bar chart and item spectra of train result JSONs, drawn with gnuplot\n"
       "  --output PREFIX           output files start with PREFIX (required; --out is the same)\n"
       "  --metric M                the curves' validation metric (default ndcg@20)\n"
       "  --bar-metric M            the bars' test metric (default ndcg@10)\n"
       "  --title T, --baseline METHOD, --reference FILE.csv\n"},
      {"report",
       "usage: seqrec report RESULTS... --output FILE.html [--title T] [table options]\n"
       "  one self-contained HTML page (no network needed): the comparison table as `seqrec table` computes\n"
       "  it with the same options (sortable columns), the runs that may have learned nothing, `seqrec plot`'s\n"
       "  figures as inline SVG, every run's validation curve, test numbers and provenance\n"
       "  --output FILE.html        written atomically (required; --out is the same)\n"
       "  --title T                 the page's title (default: seqrec report)\n"
       "  --metrics, --baseline, --pairs, --reference, --correction, --alpha, --bootstrap, ...: as table\n"},
      {"tune",
       "usage: seqrec tune TUNE.ini [--shard i/n]\n"
       "  the same search budget for every method: random trials, successive halving on validation only\n"
       "  (the test set is never evaluated); resumable like bench; writes every trial, each method's\n"
       "  chosen config (an ordinary config file) and summary.md under the output.\n"
       "tune file:\n"
       "  [tune]  datasets, methods, config, output, set (as in a bench grid), trials (default 12),\n"
       "          max-epochs (default 60), rungs (default 3), eta (default 3), seed (default 1),\n"
       "          threads (default 0: one per core)\n"
       "  [space METHOD]  KEY = choice a, b, ... | uniform LO HI | loguniform LO HI   (any train key)\n"},
      {"generate",
       "usage: seqrec generate --output FILE.inter [options]\n"
       "  a synthetic RecBole .inter log with Zipf item popularity and sequential structure, seeded\n"
       "  (--out is the same as --output)\n"
       "  --users N (default 1000)  --items N (default 1000)  --min-len N (default 5)  --max-len N (default 30)\n"
       "  --zipf A (default 0.8)    item i is drawn with weight 1 / i^A\n"
       "  --follow P (default 0.8)  probability that the next item is one of the current item's K successors\n"
       "                            (else a popularity draw)\n"
       "  --successors K (default 3)  --seed S (default 1)\n"},
      {"launch",
       "usage: seqrec launch -n N [--port P] -- train|eval [--key value ...]\n"
       "  runs train or eval as N data-parallel processes on this machine (RANK, WORLD_SIZE, LOCAL_RANK,\n"
       "  MASTER_ADDR=127.0.0.1 and MASTER_PORT set for each; P: a free port unless given). Rank 0 logs and\n"
       "  writes; stop signals reach every rank; the exit code is the first failing rank's.\n"},
  };
  return u;
}

}  // namespace

const std::string* command_usage(const std::string& command) {
  auto it = usages().find(command);
  return it == usages().end() ? nullptr : &it->second;
}

std::string usage_line(const std::string& command) {
  const std::string* u = command_usage(command);
  return u ? u->substr(0, u->find('\n')) : "";
}

}  // namespace seqrec
