#pragma once
/// Paired significance tests over per-user metrics (two methods, the same users).
#include <cstdint>
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

/// Mean and sample standard deviation (0 for a single value).
void mean_std(const std::vector<double>& v, double* mean, double* std);

}  // namespace seqrec
