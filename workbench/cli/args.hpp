// Minimal argument access for `wb` verbs: positional words and `--flag value`
// / `-n value` options, with clear errors for missing or malformed values.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/util/result.hpp"

namespace wb::cli {

class Args {
 public:
  // argv after the verb.
  explicit Args(std::vector<std::string> words) : words_(std::move(words)) {}

  // True when --name (or -n) is present; it is then marked as used.
  bool flag(const std::string& name);
  // The value after --name; nullopt when absent; error when it has no value.
  Result<std::optional<std::string>> value(const std::string& name);
  Result<std::optional<int64_t>> integer(const std::string& name);
  Result<std::optional<double>> number(const std::string& name);
  // Positional words (those not consumed as options), in order. Call after
  // reading every option so values are not mistaken for positionals.
  std::vector<std::string> positionals() const;
  // An error naming any --option that nothing read.
  Status reject_unknown() const;

 private:
  std::vector<std::string> words_;
  std::vector<bool> used_ = std::vector<bool>(words_.size(), false);
};

// Prints the error as "wb: <message>" to stderr and returns the exit code (1).
int fail(const Error& e);

}  // namespace wb::cli
