// Result<T>: a value or an error with a domain code and a message.
//
//   wb::Result<Model> load(const std::string& path);
//   auto m = load(p);
//   if (!m) { log.error(m.error().message); return; }
//   use(*m);
//
//   WB_TRY(x, compute());          // declares x, or returns the error upward
//   WB_CHECK(validate());          // Result<void>: returns the error upward
//
// Used at every core boundary; libraries never throw across it, never exit.
#pragma once
#include <fmt/format.h>

#include <string>
#include <utility>
#include <variant>

namespace wb {

enum class Errc {
  io,               // file could not be read or written
  format,           // malformed or inconsistent data in a file
  unsupported,      // valid but not handled (dtype, architecture, version)
  invalid_argument, // caller passed something wrong
  out_of_range,     // index / id outside what exists
  limit,            // a size beyond what we accept (absurd header values)
  security,         // refused on purpose (hostile pickle, unconsented plugin)
  cancelled,
  device,           // backend / driver failure (recoverable)
  not_implemented,
  internal,
};

const char* errc_name(Errc c);

struct Error {
  Errc code = Errc::internal;
  std::string message;
};

template <class... Args>
Error make_error(Errc code, fmt::format_string<Args...> f, Args&&... args) {
  return Error{code, fmt::format(f, std::forward<Args>(args)...)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error e) : v_(std::move(e)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(v_); }
  Error&& take_error() { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : err_(std::move(e)), ok_(false) {}
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return err_; }
  Error&& take_error() { return std::move(err_); }

 private:
  Error err_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace wb

#define WB_CONCAT_INNER(a, b) a##b
#define WB_CONCAT(a, b) WB_CONCAT_INNER(a, b)

// Declares `var` from a Result-returning expression, or returns its error.
#define WB_TRY(var, expr)                                                   \
  auto WB_CONCAT(wb_try_, __LINE__) = (expr);                               \
  if (!WB_CONCAT(wb_try_, __LINE__)) return WB_CONCAT(wb_try_, __LINE__).take_error(); \
  auto var = std::move(*WB_CONCAT(wb_try_, __LINE__))

// Evaluates a Result<void>-returning expression and returns its error, if any.
#define WB_CHECK(expr)                                                      \
  do {                                                                      \
    auto wb_check_r = (expr);                                               \
    if (!wb_check_r) return wb_check_r.take_error();                       \
  } while (0)
