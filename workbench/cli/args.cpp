#include "cli/args.hpp"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace wb::cli {

bool Args::flag(const std::string& name) {
  for (std::size_t i = 0; i < words_.size(); ++i)
    if (!used_[i] && words_[i] == name) {
      used_[i] = true;
      return true;
    }
  return false;
}

Result<std::optional<std::string>> Args::value(const std::string& name) {
  for (std::size_t i = 0; i < words_.size(); ++i) {
    if (used_[i] || words_[i] != name) continue;
    if (i + 1 >= words_.size()) return make_error(Errc::invalid_argument, "{} needs a value", name);
    used_[i] = used_[i + 1] = true;
    return std::optional<std::string>(words_[i + 1]);
  }
  return std::optional<std::string>();
}

Result<std::optional<int64_t>> Args::integer(const std::string& name) {
  WB_TRY(v, value(name));
  if (!v) return std::optional<int64_t>();
  char* end = nullptr;
  errno = 0;
  long long x = std::strtoll(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0' || errno != 0)
    return make_error(Errc::invalid_argument, "{} expects an integer, got '{}'", name, *v);
  return std::optional<int64_t>(x);
}

Result<std::optional<double>> Args::number(const std::string& name) {
  WB_TRY(v, value(name));
  if (!v) return std::optional<double>();
  char* end = nullptr;
  double x = std::strtod(v->c_str(), &end);
  if (v->empty() || *end != '\0')
    return make_error(Errc::invalid_argument, "{} expects a number, got '{}'", name, *v);
  return std::optional<double>(x);
}

std::vector<std::string> Args::positionals() const {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < words_.size(); ++i)
    if (!used_[i]) out.push_back(words_[i]);
  return out;
}

Status Args::reject_unknown() const {
  for (std::size_t i = 0; i < words_.size(); ++i)
    if (!used_[i] && words_[i].size() > 1 && words_[i][0] == '-' &&
        !(words_[i].size() > 1 && (std::isdigit(static_cast<unsigned char>(words_[i][1])) != 0)))
      return make_error(Errc::invalid_argument, "unknown option '{}'", words_[i]);
  return {};
}

int fail(const Error& e) {
  std::fprintf(stderr, "wb: %s\n", e.message.c_str());
  return 1;
}

}  // namespace wb::cli
