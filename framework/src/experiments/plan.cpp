#include "seqrec/plan.h"

#include <algorithm>
#include <fstream>

#include "experiments/plan_text.h"
#include "seqrec/config.h"
#include "seqrec/error.h"

namespace seqrec {

PlanFile read_plan_file(const std::string& path, const std::string& main_section, bool (*section_ok)(const std::string&),
                        const std::string& sections) {
  std::ifstream in(path);
  if (!in) throw Error(path + ": cannot open the file");
  PlanFile f;
  f.path = path;
  f.main_section = main_section;
  std::string section = main_section, line;
  for (int no = 1; std::getline(in, line); ++no) {
    line = plan::trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    const std::string where = path + ":" + std::to_string(no);
    if (line.front() == '[') {
      section = plan::trim(line.substr(1, line.find(']') - 1));
      if (!section_ok(section)) throw Error(where + ": sections are " + sections);
      continue;
    }
    const size_t eq = line.find('=');
    if (eq == std::string::npos) throw Error(where + ": expected key = value");
    const std::string key = plan::trim(line.substr(0, eq));
    if (!f.sections[section].emplace(key, PlanFile::Line{plan::trim(line.substr(eq + 1)), where}).second)
      throw Error(where + ": '" + key + "' is set twice in [" + section + "]");
  }
  return f;
}

const PlanFile::Line* PlanFile::find(const std::string& key) const {
  auto s = sections.find(main_section);
  if (s == sections.end()) return nullptr;
  auto it = s->second.find(key);
  return it == s->second.end() ? nullptr : &it->second;
}

std::string PlanFile::main(const std::string& key, const std::string& fallback) const {
  const Line* line = find(key);
  return line ? line->value : fallback;
}

int64_t PlanFile::integer(const std::string& key, int64_t fallback, int64_t lo) const {
  const Line* line = find(key);
  if (!line) return fallback;
  const int64_t v = to_integer(line->value, path + ": " + key);
  if (v < lo) throw Error(path + ": " + key + " must be at least " + std::to_string(lo));
  return v;
}

void PlanFile::read_plan(const std::string& kind, const std::vector<std::string>& own, Plan* p) const {
  static const std::vector<std::string> shared = {"datasets", "methods", "config", "output", "set", "threads"};
  auto s = sections.find(main_section);
  if (s != sections.end())
    for (const auto& [key, line] : s->second)
      if (std::find(shared.begin(), shared.end(), key) == shared.end() && std::find(own.begin(), own.end(), key) == own.end())
        throw Error(line.where + ": unknown " + kind + " key '" + key + "'");
  auto need = [&](const char* k) {
    const std::string v = main(k);
    if (v.empty()) throw Error(path + ": missing '" + std::string(k) + "'");
    return v;
  };
  p->datasets = plan::split(need("datasets"), ',');
  p->methods = plan::split(need("methods"), ',');
  p->config_pattern = need("config");
  p->output = need("output");
  for (const auto& o : plan::split(main("set"), ';')) {
    const size_t eq = o.find('=');
    if (eq == std::string::npos) throw Error(path + ": 'set' entries are key=value; got '" + o + "'");
    p->overrides.emplace_back(plan::trim(o.substr(0, eq)), plan::trim(o.substr(eq + 1)));
  }
  p->threads = integer("threads", 0, 0);
}

}  // namespace seqrec
