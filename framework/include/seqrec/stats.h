#pragma once
/// Paired significance tests over per-user metrics (two methods, the same users).
#include <cstdint>
#include <string>
#include <vector>

namespace seqrec {

/// Paired t-test and Wilcoxon signed-rank test of a - b.
struct PairedTest {
  int64_t n = 0;           ///< pairs
  double mean_diff = 0;    ///< mean of a - b
  double t = 0;            ///< t statistic (n - 1 degrees of freedom)
  double t_p = 1;          ///< two-sided p-value of the t-test
  int64_t nonzero = 0;     ///< pairs with a != b (the only ones Wilcoxon ranks)
  double w_plus = 0;       ///< sum of the ranks of the positive differences (ties get mean ranks)
  double w_z = 0;          ///< normal approximation with tie correction, continuity-corrected
  double w_p = 1;          ///< two-sided p-value of the signed-rank test
};

/// Throws seqrec::Error if the vectors differ in length or have fewer than 2 pairs.
PairedTest paired_tests(const std::vector<double>& a, const std::vector<double>& b);

/// Multiple-comparison corrections of a family of p-values.
enum class Correction { kHolm, kBonferroni, kNone };
Correction correction_from_string(const std::string& s);  ///< holm | bonferroni | none, else an Error
std::string correction_name(Correction c);
/// The adjusted p-values, in the input order: Bonferroni min(1, m p); Holm's step-down
/// max over the sorted prefix of min(1, (m - j) p_(j)) (j from 0), which controls the
/// family-wise error rate like Bonferroni and rejects at least as much.
std::vector<double> adjust_p_values(const std::vector<double>& p, Correction c);

/// A percentile interval of the mean of `d` (per-user differences) from `resamples` paired
/// bootstrap resamples of the users, drawn with a seeded mt19937_64: the same inputs and
/// seed give the same interval.
struct Interval {
  double lo = 0, hi = 0;
};
Interval bootstrap_mean_interval(const std::vector<double>& d, int64_t resamples, uint64_t seed, double level = 0.95);

/// Whether a single outside value `x` (a published number: one trained model) is consistent
/// with n runs of mean `mean` and sample std `sd` (the seeds of a cell), the runs taken as
/// normal: x as one more run, t = (x - mean) / (sd sqrt(1 + 1/n)) with n - 1 degrees of
/// freedom, two-sided; and the `level` prediction interval of one more run. Throws
/// seqrec::Error for n < 2 or sd = 0 (no spread to test against).
struct OneMoreRunTest {
  double t = 0, p = 1;
  int64_t dof = 0;
  Interval interval;  ///< where one more run falls with probability `level`
};
OneMoreRunTest one_more_run_test(double mean, double sd, int64_t n, double x, double level = 0.95);

/// Mean and sample standard deviation (0 for a single value).
void mean_std(const std::vector<double>& v, double* mean, double* std);

}  // namespace seqrec
