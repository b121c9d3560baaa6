// seqrec plot RESULTS... --out PREFIX: learning curves (validation metric and training loss
// per epoch, one line per method: its lowest seed), a bar chart of a test metric (mean +-
// std over seeds) and, where runs recorded it, the item tables' normalised singular-value
// spectra. Drawn by gnuplot (PNG via pngcairo, and SVG); the data and script stay beside
// the images so a figure can be restyled without re-running anything.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "report/runs.h"
#include "seqrec/error.h"
#include "seqrec/files.h"
#include "seqrec/report.h"
#include "seqrec/stats.h"

namespace fs = std::filesystem;

namespace seqrec {
namespace {

std::string quote(const std::string& s) {
  std::string o = "\"";
  for (char c : s) o += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
  return o + "\"";
}

/// Runs gnuplot on `script` once per terminal (png, svg), writing PREFIX-NAME.{png,svg}.
void draw(const std::string& prefix, const std::string& name, const std::string& script, int width, int height) {
  for (const char* ext : {"png", "svg"}) {
    const std::string out = prefix + "-" + name + "." + ext;
    const std::string gp = prefix + "-" + name + ".gp";
    std::ostringstream f;
    f << (std::string(ext) == "png" ? "set terminal pngcairo size " : "set terminal svg size ") << width << "," << height
      << " noenhanced font 'Sans,10'\nset output " << quote(out) << "\n"
      << script;
    write_file_atomically(gp, f.str());
    const std::string cmd = "gnuplot " + quote(gp) + " 2>&1";
    if (std::system(cmd.c_str()) != 0) throw Error("plot: gnuplot failed on " + gp + " (is gnuplot installed? Debian: gnuplot-nox)");
    std::cout << "wrote " << out << std::endl;
  }
}

}  // namespace

int cmd_plot(const std::vector<std::string>& args) {
  std::vector<std::string> inputs;
  std::string prefix, metric = "ndcg@20", bar_metric = "ndcg@10", title;
  for (size_t i = 0; i < args.size(); ++i) {
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw Error("plot: " + args[i] + " needs a value");
      return args[++i];
    };
    if (args[i] == "--out") prefix = value();
    else if (args[i] == "--metric") metric = value();
    else if (args[i] == "--bar-metric") bar_metric = value();
    else if (args[i] == "--title") title = value();
    else if (args[i][0] == '-') throw Error("plot: unknown option " + args[i]);
    else inputs.push_back(args[i]);
  }
  if (prefix.empty()) throw Error("usage: seqrec plot RESULTS... --out PREFIX [--metric ndcg@20] [--bar-metric ndcg@10] [--title T]");
  if (!fs::path(prefix).parent_path().empty()) fs::create_directories(fs::path(prefix).parent_path());
  std::vector<RunRecord> runs = read_runs(inputs);
  // Label runs "method" (one dataset) or "method / dataset".
  std::set<std::string> datasets;
  for (const auto& r : runs) datasets.insert(r.dataset);
  auto label = [&](const RunRecord& r) { return datasets.size() > 1 ? r.method + " / " + r.dataset : r.method; };
  std::vector<std::string> order;
  std::map<std::string, std::vector<const RunRecord*>> groups;
  for (const auto& r : runs) {
    if (!groups.count(label(r))) order.push_back(label(r));
    groups[label(r)].push_back(&r);
  }
  auto first_seed = [&](const std::string& g) {
    const RunRecord* best = groups[g].front();
    for (const RunRecord* r : groups[g])
      if (r->seed < best->seed) best = r;
    return best;
  };
  const std::string head = title.empty() ? "" : title + ": ";

  // Learning curves.
  const std::string curves = prefix + "-curves.dat";
  {
    std::ostringstream f;
    for (const auto& g : order) {
      f << "# " << g << "\n";
      for (const auto& e : first_seed(g)->doc["curve"]) {
        f << e["epoch"].get<int64_t>() << " " << e["loss"].get<double>() << " ";
        if (e.contains("valid") && e["valid"].contains(metric)) f << e["valid"][metric].get<double>();
        else f << "NaN";
        f << "\n";
      }
      f << "\n\n";
    }
    write_file_atomically(curves, f.str());
  }
  std::ostringstream s;
  s << "set multiplot layout 1,2\nset key bottom right\nset grid\nset xlabel 'epoch'\n"
    << "set title " << quote(head + "validation " + metric) << "\nplot ";
  for (size_t i = 0; i < order.size(); ++i)
    s << (i ? ", " : "") << quote(curves) << " index " << i << " using 1:3 with lines lw 2 title " << quote(order[i]);
  s << "\nset key top right\nset title " << quote(head + "training loss") << "\nset logscale y\nplot ";
  for (size_t i = 0; i < order.size(); ++i)
    s << (i ? ", " : "") << quote(curves) << " index " << i << " using 1:2 with lines lw 2 title " << quote(order[i]);
  s << "\nunset multiplot\n";
  draw(prefix, "curves", s.str(), 1200, 450);

  // Bars: test metric, mean +- std over seeds.
  const std::string bars = prefix + "-bars.dat";
  {
    std::ostringstream f;
    for (size_t i = 0; i < order.size(); ++i) {
      std::vector<double> v;
      for (const RunRecord* r : groups[order[i]]) {
        if (!r->test.count(bar_metric)) throw Error(r->path + ": no test " + bar_metric);
        v.push_back(r->test.at(bar_metric));
      }
      double m, sd;
      mean_std(v, &m, &sd);
      f << i << " " << m << " " << sd << " " << quote(order[i] + " (n=" + std::to_string(v.size()) + ")") << "\n";
    }
    write_file_atomically(bars, f.str());
  }
  std::ostringstream b;
  b << "set title " << quote(head + "test " + bar_metric + " (mean ± std over seeds)") << "\nset style fill solid 0.6\n"
    << "set boxwidth 0.6\nset grid ytics\nset yrange [0:*]\nset xtics rotate by -30\nunset key\n"
    << "plot " << quote(bars) << " using 1:2:xtic(4) with boxes, '' using 1:2:3 with yerrorbars lc rgb 'black' pt 0\n";
  draw(prefix, "bars", b.str(), 900, 500);

  // Spectra, where recorded.
  std::vector<std::string> with_spectrum;
  for (const auto& g : order)
    if (first_seed(g)->doc.contains("item_spectrum")) with_spectrum.push_back(g);
  if (!with_spectrum.empty()) {
    const std::string spec = prefix + "-spectrum.dat";
    std::ostringstream f;
    for (const auto& g : with_spectrum) {
      f << "# " << g << "\n";
      int64_t k = 1;
      for (const auto& x : first_seed(g)->doc["item_spectrum"]) f << k++ << " " << x.get<double>() << "\n";
      f << "\n\n";
    }
    write_file_atomically(spec, f.str());
    std::ostringstream p;
    p << "set title " << quote(head + "item-table singular values / largest") << "\nset xlabel 'index'\nset grid\n"
      << "set key top right\nplot ";
    for (size_t i = 0; i < with_spectrum.size(); ++i)
      p << (i ? ", " : "") << quote(spec) << " index " << i << " using 1:2 with lines lw 2 title " << quote(with_spectrum[i]);
    p << "\n";
    draw(prefix, "spectrum", p.str(), 800, 500);
  }
  return 0;
}

}  // namespace seqrec
