// seqrec plot RESULTS... --output PREFIX: learning curves (validation metric and training loss
// per epoch, one line per method: its lowest seed), a bar chart of a test metric (mean +-
// std over seeds, sorted, the baseline's mean as a line, published values as markers) and,
// where runs recorded it, the item tables' normalised singular-value spectra; one row or
// panel per dataset. A method keeps its colour and dash in every panel and figure. Drawn by
// gnuplot (PNG via pngcairo, and SVG); the data and script stay beside the images so a
// figure can be restyled without re-running anything.
#include <algorithm>
#include <cmath>
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

/// Where the figures go: files starting with `prefix`, each named on `log` once written.
struct Canvas {
  std::string prefix;
  std::ostream& log;
};

/// Runs gnuplot on `script` once per terminal (png, svg), writing PREFIX-NAME.{png,svg}.
void draw(const Canvas& canvas, const std::string& name, const std::string& script, int width, int height) {
  const std::string& prefix = canvas.prefix;
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
    canvas.log << "wrote " << out << std::endl;
  }
}

/// The colour of series `i`: eight that stay apart for colour-blind readers (Okabe-Ito, with
/// grey for the yellow); its style adds the next dash pattern every eight: 32 distinct styles.
std::string series_colour(size_t i) {
  static const char* colours[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999"};
  return colours[i % 8];
}
std::string series_style(size_t i) {
  return "lc rgb '" + series_colour(i) + "' dt " + std::to_string(i / 8 % 4 + 1) + " lw 2";
}

/// gnuplot's multiplot grid for `n` panels: up to two columns.
int grid_cols(size_t n) { return static_cast<int>(std::min<size_t>(n, 2)); }
int grid_rows(size_t n) { return static_cast<int>((n + 1) / 2); }
std::string layout(size_t n) { return std::to_string(grid_rows(n)) + "," + std::to_string(grid_cols(n)); }

/// The runs to draw: datasets in order of appearance, each method's runs per dataset, and
/// one style per method (sorted by name) that every panel and figure shares.
struct Figures {
  std::vector<std::string> datasets, methods;
  std::map<std::string, std::map<std::string, std::vector<const RunRecord*>>> groups;  // dataset -> method -> runs
  std::string head;  ///< "TITLE: " or ""

  Figures(const std::vector<RunRecord>& runs, const std::string& title) : head(title.empty() ? "" : title + ": ") {
    for (const auto& r : runs) {
      if (!groups.count(r.dataset)) datasets.push_back(r.dataset);
      if (std::find(methods.begin(), methods.end(), r.method) == methods.end()) methods.push_back(r.method);
      groups[r.dataset][r.method].push_back(&r);
    }
    std::sort(methods.begin(), methods.end());
  }
  size_t index_of(const std::string& m) const {
    return static_cast<size_t>(std::find(methods.begin(), methods.end(), m) - methods.begin());
  }
  /// The figure's title says what is drawn; each panel is titled by its dataset.
  std::string title(const std::string& what) const { return quote(head + what); }
  static const RunRecord* first_seed(const std::vector<const RunRecord*>& rs) {
    return *std::min_element(rs.begin(), rs.end(), [](const RunRecord* a, const RunRecord* b) { return a->seed < b->seed; });
  }
};

/// The name of a data block: gnuplot's `index "NAME"` selects the block whose header
/// comment contains NAME, so each series is plotted by the name it was written under (a
/// numbered index would shift past a block with no rows). The brackets keep one name from
/// being part of another ("[d|sasrec]" is not in "[d|sasrec-bce]").
std::string block_name(const std::string& dataset, const std::string& method) { return "[" + dataset + "|" + method + "]"; }

/// One gnuplot `plot` of line series: the blocks of `file` that `series` names (dataset,
/// method), `using` columns, each titled by its method.
std::string line_plot(const Figures& f, const std::string& file, const std::string& dataset,
                      const std::vector<std::string>& series, const char* columns, bool titled) {
  std::ostringstream s;
  s << "plot ";
  for (size_t i = 0; i < series.size(); ++i)
    s << (i ? ", " : "") << quote(file) << " index " << quote(block_name(dataset, series[i])) << " using " << columns
      << " with lines " << series_style(f.index_of(series[i])) << (titled ? " title " + quote(series[i]) : " notitle");
  return s.str() + "\n";
}

/// Learning curves: a row per dataset, validation metric left, training loss right, the
/// legend outside on the right. A method with no epochs (popularity) has no line; the
/// panel's title names it.
void draw_curves(const Figures& f, const Canvas& canvas, const std::string& metric) {
  const std::string curves = canvas.prefix + "-curves.dat";
  std::ostringstream cd, cs;
  int rows = 0;
  for (const auto& d : f.datasets) {
    std::vector<std::string> series, without;
    for (const auto& [m, rs] : f.groups.at(d)) {
      const std::vector<EpochRecord>& curve = Figures::first_seed(rs)->result.curve;
      if (curve.empty()) {
        without.push_back(m);
        continue;
      }
      cd << "# " << block_name(d, m) << " epoch loss " << metric << "\n";
      for (const EpochRecord& e : curve) {
        cd << e.epoch << " " << e.loss << " ";
        auto v = std::find_if(e.valid.begin(), e.valid.end(), [&](const auto& x) { return x.first == metric; });
        if (v != e.valid.end()) cd << v->second;
        else cd << "NaN";
        cd << "\n";
      }
      cd << "\n\n";
      series.push_back(m);
    }
    if (series.empty()) continue;
    ++rows;
    std::string note;
    for (const auto& m : without) note += (note.empty() ? " (no curve: " : ", ") + m;
    if (!note.empty()) note += ")";
    cs << "unset key\nunset logscale y\nset title " << quote(d + ": validation " + metric + note) << "\n"
       << line_plot(f, curves, d, series, "1:3", false) << "set key outside right top\nset logscale y\nset title "
       << quote(d + ": training loss") << "\n" << line_plot(f, curves, d, series, "1:2", true);
  }
  if (rows == 0) return;  // nothing was trained: no figure
  write_file_atomically(curves, cd.str());
  draw(canvas, "curves",
       "set multiplot layout " + std::to_string(rows) + ",2 title " + f.title("learning curves (lowest seed)") +
           "\nset grid\nset xlabel 'epoch'\n" + cs.str() + "unset multiplot\n",
       1400, 60 + 380 * rows);
}

/// Bars: a panel per dataset, methods sorted by mean (best left), the baseline's mean as a
/// dashed line, published values as diamonds after the bars.
void draw_bars(const Figures& f, const Canvas& canvas, const std::string& bar_metric, const std::string& baseline,
               const std::vector<Published>& published) {
  const std::string bars = canvas.prefix + "-bars.dat";
  std::ostringstream bd, bs;
  size_t most_bars = 0, longest_label = 0;
  bool drew_baseline = false, drew_published = false;
  for (const auto& d : f.datasets) {
    struct Bar {
      std::string label, colour;
      double mean, sd;
      bool ours;
    };
    std::vector<Bar> rows;
    double base = std::nan("");
    for (const auto& [m, rs] : f.groups.at(d)) {
      std::vector<double> v;
      for (const RunRecord* r : rs) {
        if (!r->test.count(bar_metric)) throw Error(r->path + ": no test " + bar_metric);
        v.push_back(r->test.at(bar_metric));
      }
      double mean, sd;
      mean_std(v, &mean, &sd);
      if (m == baseline) base = mean;
      rows.push_back({m + (m == baseline ? " (baseline)" : "") + " n=" + std::to_string(v.size()), series_colour(f.index_of(m)), mean, sd, true});
    }
    std::sort(rows.begin(), rows.end(), [](const Bar& a, const Bar& b) { return a.mean > b.mean; });
    for (const auto& p : published) {
      auto it = p.value.find({d, bar_metric});
      if (it != p.value.end()) rows.push_back({p.method + " [" + p.source + "]", "", it->second, 0, false});
    }
    most_bars = std::max(most_bars, rows.size());
    for (const Bar& b : rows) longest_label = std::max(longest_label, b.label.size());
    drew_baseline = drew_baseline || !std::isnan(base);
    drew_published = drew_published || std::any_of(rows.begin(), rows.end(), [](const Bar& b) { return !b.ours; });
    bd << "# " << block_name(d, "bars") << " x mean std label (ours, then published)\n";
    for (size_t i = 0; i < rows.size(); ++i)
      bd << i << " " << rows[i].mean << " " << rows[i].sd << " " << quote(rows[i].label) << "\n";
    bd << "\n\n";
    bs << "set title " << quote(d) << "\n"
       << "set xrange [-0.6:" << rows.size() - 0.4 << "]\n";
    if (!std::isnan(base)) bs << "set arrow 1 from graph 0, first " << base << " to graph 1, first " << base
                              << " nohead dt 2 lw 1.5 lc rgb '#444444' front\n";
    else bs << "unset arrow 1\n";
    bs << "plot ";
    for (size_t i = 0; i < rows.size(); ++i) {
      const std::string one = quote(bars) + " index " + quote(block_name(d, "bars")) + " every ::" + std::to_string(i) +
                              "::" + std::to_string(i);
      if (rows[i].ours)
        bs << (i ? ", " : "") << one << " using 1:2:xtic(4) with boxes fc rgb '" << rows[i].colour << "', "
           << one << " using 1:2:3 with yerrorbars lc rgb 'black' pt 0";
      else
        bs << (i ? ", " : "") << one << " using 1:2:xtic(4) with points pt 13 ps 2 lc rgb 'black'";
    }
    bs << "\n";
  }
  write_file_atomically(bars, bd.str());
  // The caption names only what is drawn. Labels run at 45 degrees below the axis, so the
  // margins follow the longest one (in character cells: ~0.7 of its length each way).
  std::string caption = "test " + bar_metric + ", mean ± std over seeds";
  if (drew_baseline) caption += "; dashed: " + baseline;
  if (drew_published) caption += "; diamonds: published";
  const int reach = static_cast<int>(std::ceil(0.7 * static_cast<double>(longest_label)));
  const int bottom = reach / 2 + 3, left = std::max(10, reach - 4);
  const std::string head = "set multiplot layout " + layout(f.datasets.size()) + " title " + f.title(caption) +
                           "\nset style fill solid 0.7 border lc rgb 'black'\nset boxwidth 0.7\nset grid ytics\nset yrange [0:*]\n"
                           "set xtics rotate by 45 right nomirror\nset bmargin " + std::to_string(bottom) + "\nset lmargin " +
                           std::to_string(left) + "\nunset key\n";
  const int panel_width = static_cast<int>(std::max<size_t>(480, 7 * left + 60 * most_bars + 60));
  const int panel_height = 340 + 16 * bottom;
  draw(canvas, "bars", head + bs.str() + "unset multiplot\n", 40 + panel_width * grid_cols(f.datasets.size()),
       60 + panel_height * grid_rows(f.datasets.size()));

}

/// Spectra, where recorded: a panel per dataset.
void draw_spectra(const Figures& f, const Canvas& canvas) {
  std::ostringstream sd, ss;
  ss << "set multiplot layout " << layout(f.datasets.size()) << " title "
     << f.title("item-table singular values / largest (lowest seed)") << "\nset xlabel 'index'\nset grid\n"
     << "set key top right\n";
  bool any = false;
  for (const auto& d : f.datasets) {
    std::vector<std::string> series;
    for (const auto& [m, rs] : f.groups.at(d)) {
      const RunRecord* r = Figures::first_seed(rs);
      if (!r->result.item_spectrum || r->result.item_spectrum->empty()) continue;
      sd << "# " << block_name(d, m) << " index value\n";
      int64_t k = 1;
      for (double x : *r->result.item_spectrum) sd << k++ << " " << x << "\n";
      sd << "\n\n";
      series.push_back(m);
    }
    if (series.empty()) continue;
    any = true;
    ss << "set title " << quote(d) << "\n" << line_plot(f, canvas.prefix + "-spectrum.dat", d, series, "1:2", true);
  }
  ss << "unset multiplot\n";
  if (any) {
    write_file_atomically(canvas.prefix + "-spectrum.dat", sd.str());
    draw(canvas, "spectrum", ss.str(), 160 + 560 * grid_cols(f.datasets.size()), 60 + 420 * grid_rows(f.datasets.size()));
  }
}

}  // namespace

void draw_plots(const PlotSpec& p, std::ostream& log) {
  if (!fs::path(p.prefix).parent_path().empty()) create_directories(fs::path(p.prefix).parent_path().string());
  const std::vector<RunRecord> runs = read_runs(p.inputs);
  const std::vector<Published> published = p.reference.empty() ? std::vector<Published>{} : read_published(p.reference);
  const Figures f(runs, p.title);
  const Canvas canvas{p.prefix, log};
  draw_curves(f, canvas, p.metric);
  draw_bars(f, canvas, p.bar_metric, p.baseline, published);
  draw_spectra(f, canvas);
}

}  // namespace seqrec
