// seqrec report RESULTS... --output report.html: one self-contained HTML page for a grid or study:
// the comparison table exactly as `table` computes it (marks, intervals, published rows;
// sortable columns), the runs that may have learned nothing, `plot`'s figures as inline SVG,
// each run's validation curve and numbers, and the provenance. No file or network is
// referenced: the page opens anywhere.
#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <regex>
#include <sstream>

#include "report/comparison.h"
#include "report/text.h"
#include "seqrec/error.h"
#include "seqrec/files.h"
#include "seqrec/report.h"

namespace fs = std::filesystem;

namespace seqrec {
namespace {

std::string escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

/// A markdown cell as HTML: escaped, **bold** as <strong>, `code` as <code>.
std::string cell_html(const std::string& md) {
  std::string s = escape(md);
  s = std::regex_replace(s, std::regex(R"(\*\*([^*]+)\*\*)"), "<strong>$1</strong>");
  return std::regex_replace(s, std::regex("`([^`]+)`"), "<code>$1</code>");
}

/// The first number in a cell, the key its column sorts by ("" for none: sorted last).
std::string sort_key(const std::string& cell) {
  std::smatch m;
  return std::regex_search(cell, m, std::regex(R"(-?\d+(\.\d+)?)")) ? m.str() : "";
}

std::string comparison_html(const ComparisonTable& t) {
  std::ostringstream o;
  o << "<div class=\"scroll\"><table id=\"comparison\" class=\"sortable\">\n<thead><tr>";
  for (const std::string& h : t.rows[0]) o << "<th>" << escape(h) << "</th>";
  o << "</tr></thead>\n<tbody>\n";
  for (size_t i = 1; i < t.rows.size(); ++i) {
    const bool published = t.rows[i][0].find(" (published: ") != std::string::npos;
    o << "<tr" << (published ? " class=\"published\"" : "") << ">";
    for (size_t j = 0; j < t.rows[i].size(); ++j) {
      const std::string& c = t.rows[i][j];
      if (j == 0) o << "<th scope=\"row\">" << cell_html(c) << "</th>";
      else o << "<td data-sort=\"" << sort_key(c) << "\">" << cell_html(c) << "</td>";
    }
    o << "</tr>\n";
  }
  o << "</tbody></table></div>\n";
  return o.str();
}

/// The table's footer: its opening paragraph, then its "- " lines as a list (nested by indent),
/// folded under a summary that counts them.
std::string footer_html(const std::string& footer) {
  std::vector<std::string> lines;
  std::istringstream in(footer);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  auto item_at = [](const std::string& line) {  // the indent of a "- " line, npos for prose
    const size_t dash = line.find_first_not_of(' ');
    return line.compare(dash, 2, "- ") == 0 ? dash : std::string::npos;
  };
  const auto items = std::count_if(lines.begin(), lines.end(), [&](const std::string& l) { return item_at(l) != std::string::npos; });
  std::ostringstream o;
  bool folded = false;
  int depth = 0;
  for (const std::string& line : lines) {
    const size_t dash = item_at(line);
    if (dash == std::string::npos) {
      for (; depth > 0; --depth) o << "</ul>\n";
      o << "<p>" << cell_html(line) << "</p>\n";
      continue;
    }
    if (!folded) o << "<details><summary>Data, runs, commits, compute and every test (" << items << " lines)</summary>\n";
    folded = true;
    const int level = static_cast<int>(dash / 2) + 1;
    for (; depth < level; ++depth) o << "<ul>\n";
    for (; depth > level; --depth) o << "</ul>\n";
    o << "<li>" << cell_html(line.substr(dash + 2)) << "</li>\n";
  }
  for (; depth > 0; --depth) o << "</ul>\n";
  if (folded) o << "</details>\n";
  return o.str();
}

/// `plot`'s figures for the runs, drawn into a scratch folder and read back as inline SVG (ids
/// made unique per figure); a note instead when gnuplot cannot draw them.
std::string figures_html(const ComparisonTable& t) {
  const fs::path dir = fs::temp_directory_path() / ("seqrec-report-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  PlotSpec p;
  p.inputs = t.inputs;
  p.prefix = (dir / "fig").string();
  p.baseline = t.baseline;
  p.reference = t.reference;
  std::ostringstream o, quiet;  // plot's "wrote ..." lines name scratch files
  try {
    draw_plots(p, quiet);
  } catch (const std::exception& e) {
    fs::remove_all(dir);
    return "<p class=\"note\">Figures not drawn: " + escape(e.what()) + "</p>\n";
  }
  int n = 0;
  for (const char* name : {"curves", "bars", "spectra"}) {
    const fs::path svg = dir / (std::string("fig-") + name + ".svg");
    if (!fs::exists(svg)) continue;
    std::string s = read_file(svg.string());
    s = s.substr(s.find("<svg"));
    // gnuplot names its data files in the SVG's titles: without the scratch folder (named by
    // the process id) the page regenerates byte for byte.
    const std::string scratch = dir.string() + "/";
    for (size_t at; (at = s.find(scratch)) != std::string::npos;) s.erase(at, scratch.size());
    const std::string id = "f" + std::to_string(++n) + "_";
    for (const char* prefix : {"gpPt", "gpDot", "gnuplot_canvas"})
      s = std::regex_replace(s, std::regex(prefix), id + prefix);
    o << "<figure>" << s << "<figcaption>" << name << "</figcaption></figure>\n";
  }
  fs::remove_all(dir);
  return o.str();
}

/// A run's validation curve of `metric` as a small inline SVG, the best epoch dotted ("" for
/// fewer than two validations).
std::string sparkline(const RunResult& r, const std::string& metric) {
  std::vector<std::pair<int64_t, double>> pts;
  for (const EpochRecord& e : r.curve)
    for (const auto& [name, value] : e.valid)
      if (name == metric) pts.emplace_back(e.epoch, value);
  if (pts.size() < 2) return "";
  double lo = pts[0].second, hi = lo;
  for (const auto& p : pts) lo = std::min(lo, p.second), hi = std::max(hi, p.second);
  const double w = 160, h = 36, span = hi > lo ? hi - lo : 1;
  const double x0 = static_cast<double>(pts.front().first), x1 = static_cast<double>(pts.back().first);
  std::ostringstream o;
  o << "<svg class=\"spark\" width=\"" << w << "\" height=\"" << h << "\" viewBox=\"0 0 " << w << " " << h
    << "\"><polyline fill=\"none\" stroke=\"#2060a0\" stroke-width=\"1.2\" points=\"";
  auto x = [&](double e) { return fixed(2 + (w - 4) * (e - x0) / std::max(1.0, x1 - x0), 1); };
  auto y = [&](double v) { return fixed(h - 2 - (h - 4) * (v - lo) / span, 1); };
  for (const auto& [e, v] : pts) o << x(static_cast<double>(e)) << "," << y(v) << " ";
  o << "\"/>";
  for (const auto& [e, v] : pts)
    if (e == r.best_epoch) o << "<circle cx=\"" << x(static_cast<double>(e)) << "\" cy=\"" << y(v) << "\" r=\"2.5\" fill=\"#c03020\"/>";
  o << "</svg>";
  return o.str();
}

std::string runs_html(const ComparisonTable& t) {
  std::ostringstream o;
  o << "<div class=\"scroll\"><table id=\"runs\" class=\"sortable\">\n<thead><tr><th>dataset</th><th>method</th><th>seed</th>"
       "<th>epochs</th><th>best epoch</th><th>validation curve</th>";
  for (const std::string& m : t.metrics) o << "<th>test " << escape(m) << "</th>";
  o << "<th>wall min</th><th>config hash</th><th>commit</th><th>result</th></tr></thead>\n<tbody>\n";
  for (const RunRecord& r : t.runs) {
    const std::string flag = std::any_of(t.run_checks.begin(), t.run_checks.end(),
                                         [&](const RunCheck& c) { return c.path == r.path && c.flagged(); })
                                 ? " ‡"
                                 : "";
    o << "<tr><td>" << escape(r.dataset) << "</td><th scope=\"row\">" << escape(r.method) << flag << "</th><td data-sort=\""
      << r.seed << "\">" << r.seed << "</td><td data-sort=\"" << r.result.epochs_run << "\">" << r.result.epochs_run
      << "</td><td data-sort=\"" << r.result.best_epoch << "\">" << r.result.best_epoch << "</td><td>"
      << sparkline(r.result, "ndcg@20") << "</td>";
    for (const std::string& m : t.metrics) {
      auto it = r.test.find(m);
      o << "<td data-sort=\"" << (it == r.test.end() ? "" : fixed(it->second, 6)) << "\">"
        << (it == r.test.end() ? "–" : fixed(it->second, 4)) << "</td>";
    }
    const double minutes = r.result.timing.total_seconds / 60;
    o << "<td data-sort=\"" << fixed(minutes, 3) << "\">" << fixed(minutes, 1) << "</td><td><code>" << escape(r.config_hash)
      << "</code></td><td><code>" << escape(r.commit) << "</code></td><td><code>" << escape(r.path) << "</code></td></tr>\n";
  }
  o << "</tbody></table></div>\n";
  return o.str();
}

const char* kStyle = R"(body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1900px;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid #ddd;padding:.3em .6em;text-align:right;white-space:nowrap}
th[scope=row],thead th:first-child{text-align:left;white-space:normal;min-width:16em}thead th{white-space:normal}thead th{cursor:pointer;background:#f4f4f4;position:sticky;top:0}
tr.published{color:#666;font-style:italic}code{font-size:90%}.spark{vertical-align:middle}
.scroll{overflow-x:auto}summary{cursor:pointer;color:#2060a0}figure{margin:1em 0}figure svg{max-width:100%;height:auto}.note,.meta{color:#555}li{margin:.2em 0})";

/// Click a column header to sort by it (numbers by their data-sort value, then text), again to reverse.
const char* kScript = R"(document.querySelectorAll('table.sortable').forEach(function(t){
t.querySelectorAll('thead th').forEach(function(th,i){th.addEventListener('click',function(){
var b=t.tBodies[0],rows=Array.from(b.rows),up=th.dataset.dir!=='up';th.dataset.dir=up?'up':'down';
function key(r){var c=r.cells[i];var s=c&&c.dataset.sort;return s!==undefined&&s!==''?parseFloat(s):(c?c.textContent:'');}
rows.sort(function(x,y){var a=key(x),c=key(y);var r=(typeof a==='number'&&typeof c==='number')?a-c:String(a).localeCompare(String(c));return up?r:-r;});
rows.forEach(function(r){b.appendChild(r);});});});});)";

}  // namespace

void write_report(const TableSpec& spec, const std::string& out, const std::string& title, std::ostream& log) {
  const ComparisonTable t = comparison_table(spec);
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" << escape(title) << "</title>\n<style>"
    << kStyle << "</style></head>\n<body>\n<h1>" << escape(title) << "</h1>\n<p class=\"meta\">" << t.runs.size()
    << " runs from";
  for (const std::string& in : t.inputs) o << " <code>" << escape(in) << "</code>";
  o << ". Click a column's header to sort by it.</p>\n<h2>Comparison</h2>\n"
    << comparison_html(t) << "<div id=\"provenance\">\n" << footer_html(t.footer) << "</div>\n";
  std::vector<const RunCheck*> flagged;
  for (const RunCheck& c : t.run_checks)
    if (c.flagged()) flagged.push_back(&c);
  if (!flagged.empty()) {
    o << "<h2 id=\"learned-nothing\">Runs that may have learned nothing</h2>\n<ul>\n";
    for (const RunCheck* c : flagged) o << "<li><code>" << escape(c->path) << "</code>: " << escape(c->text()) << "</li>\n";
    o << "</ul>\n";
  }
  o << "<h2>Figures</h2>\n" << figures_html(t) << "<h2>Runs</h2>\n<p class=\"meta\">Each run's validation NDCG@20 by epoch "
    << "(red: the best epoch, whose weights were tested).</p>\n" << runs_html(t) << "<script>" << kScript
    << "</script>\n</body></html>\n";
  write_file_atomically(out, o.str());
  log << "report written to " << out << " (" << t.runs.size() << " runs)" << std::endl;
}

}  // namespace seqrec
