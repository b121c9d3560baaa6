#include "seqrec/stats.h"

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <numeric>
#include <random>

#include "seqrec/error.h"

namespace seqrec {

void mean_std(const std::vector<double>& v, double* mean, double* std) {
  const double n = static_cast<double>(v.size());
  *mean = n ? std::accumulate(v.begin(), v.end(), 0.0) / n : 0.0;
  double ss = 0;
  for (double x : v) ss += (x - *mean) * (x - *mean);
  *std = v.size() > 1 ? std::sqrt(ss / (n - 1)) : 0.0;
}

Correction correction_from_string(const std::string& s) {
  if (s == "holm") return Correction::kHolm;
  if (s == "bonferroni") return Correction::kBonferroni;
  if (s == "none") return Correction::kNone;
  throw Error("--correction must be holm, bonferroni or none (got '" + s + "')");
}

std::string correction_name(Correction c) {
  switch (c) {
    case Correction::kHolm: return "holm";
    case Correction::kBonferroni: return "bonferroni";
    case Correction::kNone: return "none";
  }
  return "?";
}

std::vector<double> adjust_p_values(const std::vector<double>& p, Correction c) {
  const double m = static_cast<double>(p.size());
  std::vector<double> out(p.size());
  if (c == Correction::kNone) return p;
  if (c == Correction::kBonferroni) {
    for (size_t i = 0; i < p.size(); ++i) out[i] = std::min(1.0, m * p[i]);
    return out;
  }
  std::vector<size_t> order(p.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  double running = 0;  // step-down: adjusted values never decrease along the sorted order
  for (size_t j = 0; j < order.size(); ++j) {
    running = std::max(running, std::min(1.0, (m - static_cast<double>(j)) * p[order[j]]));
    out[order[j]] = running;
  }
  return out;
}

Interval bootstrap_mean_interval(const std::vector<double>& d, int64_t resamples, uint64_t seed, double level) {
  if (d.empty() || resamples < 1) throw Error("bootstrap: needs values and at least one resample");
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, d.size() - 1);
  std::vector<double> means(static_cast<size_t>(resamples));
  for (double& mean : means) {
    double sum = 0;
    for (size_t i = 0; i < d.size(); ++i) sum += d[pick(rng)];
    mean = sum / static_cast<double>(d.size());
  }
  std::sort(means.begin(), means.end());
  // Percentile interval: the (1 - level) / 2 and (1 + level) / 2 quantiles (nearest rank).
  auto quantile = [&](double q) {
    const double pos = q * static_cast<double>(means.size() - 1);
    return means[static_cast<size_t>(std::lround(pos))];
  };
  return {quantile((1 - level) / 2), quantile((1 + level) / 2)};
}

OneMoreRunTest one_more_run_test(double mean, double sd, int64_t n, double x, double level) {
  if (n < 2 || !(sd > 0)) throw Error("one-more-run test: needs at least 2 runs that differ");
  OneMoreRunTest r;
  r.dof = n - 1;
  const double scale = sd * std::sqrt(1 + 1.0 / static_cast<double>(n));
  boost::math::students_t dist(static_cast<double>(r.dof));
  r.t = (x - mean) / scale;
  r.p = 2 * boost::math::cdf(boost::math::complement(dist, std::fabs(r.t)));
  const double q = boost::math::quantile(dist, 0.5 + level / 2);
  r.interval = {mean - q * scale, mean + q * scale};
  return r;
}

PairedTest paired_tests(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) throw Error("paired test: " + std::to_string(a.size()) + " vs " + std::to_string(b.size()) + " values");
  if (a.size() < 2) throw Error("paired test: needs at least 2 pairs");
  PairedTest r;
  r.n = static_cast<int64_t>(a.size());
  std::vector<double> d(a.size());
  for (size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  double sd;
  mean_std(d, &r.mean_diff, &sd);
  if (sd > 0) {
    r.t = r.mean_diff / (sd / std::sqrt(static_cast<double>(r.n)));
    boost::math::students_t dist(static_cast<double>(r.n - 1));
    r.t_p = 2 * boost::math::cdf(boost::math::complement(dist, std::fabs(r.t)));
  } else {
    r.t_p = r.mean_diff == 0 ? 1.0 : 0.0;
  }

  // Wilcoxon: drop zero differences, rank |d| with mean ranks for ties.
  std::vector<double> nz;
  for (double x : d)
    if (x != 0) nz.push_back(x);
  r.nonzero = static_cast<int64_t>(nz.size());
  if (nz.empty()) return r;
  std::vector<size_t> order(nz.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t i, size_t j) { return std::fabs(nz[i]) < std::fabs(nz[j]); });
  std::vector<double> rank(nz.size());
  double tie_term = 0;  // sum of t^3 - t over tie groups
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && std::fabs(nz[order[j + 1]]) == std::fabs(nz[order[i]])) ++j;
    const double mean_rank = (i + j) / 2.0 + 1;
    for (size_t k = i; k <= j; ++k) rank[order[k]] = mean_rank;
    const double t = static_cast<double>(j - i + 1);
    tie_term += t * t * t - t;
    i = j + 1;
  }
  for (size_t i = 0; i < nz.size(); ++i)
    if (nz[i] > 0) r.w_plus += rank[i];
  const double n = static_cast<double>(nz.size());
  const double mu = n * (n + 1) / 4;
  const double var = n * (n + 1) * (2 * n + 1) / 24 - tie_term / 48;
  if (var <= 0) return r;
  const double diff = r.w_plus - mu;
  const double cc = diff > 0 ? -0.5 : (diff < 0 ? 0.5 : 0.0);
  r.w_z = (diff + cc) / std::sqrt(var);
  boost::math::normal normal;
  r.w_p = std::min(1.0, 2 * boost::math::cdf(boost::math::complement(normal, std::fabs(r.w_z))));
  return r;
}

}  // namespace seqrec
