// Comparison of float vectors for the numeric tests: one definition for every
// suite. (Two headers once each defined wb::test::max_abs_diff, one returning
// float and one double; the linker merged them, and calls that were not
// inlined read a double's register as a float: garbage, usually tiny, so
// tolerance checks could pass whatever the values.)
#pragma once
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

namespace wb::test {

// Largest |a[i] - b[i]|; a NaN or infinity on either side fails the test
// (std::max would silently skip a NaN).
inline double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a[i]) || !std::isfinite(b[i])) {
      INFO("element " << i << ": " << a[i] << " vs " << b[i]);
      REQUIRE(std::isfinite(a[i]));
      REQUIRE(std::isfinite(b[i]));
    }
    d = std::max(d, std::fabs(double(a[i]) - double(b[i])));
  }
  return d;
}

}  // namespace wb::test
