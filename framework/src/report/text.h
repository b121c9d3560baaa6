#pragma once
// Number formatting shared by the report commands.
#include <iomanip>
#include <sstream>
#include <string>

namespace seqrec {

/// `x` with `digits` decimals ("0.0403").
inline std::string fixed(double x, int digits = 4) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(digits) << x;
  return o.str();
}

}  // namespace seqrec
