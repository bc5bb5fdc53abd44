// Standard base64 (RFC 4648, '+' '/' alphabet, '=' padding), as character
// cards use it inside PNG text chunks.
//
//   std::string b64 = wb::card::base64_encode(bytes);
//   auto back = wb::card::base64_decode(b64);   // Result<std::string>
//   if (!back) log.error("{}", back.error().message);
//
// The decoder is strict about the alphabet and padding but skips ASCII
// whitespace, because some card tools wrap long lines.
#pragma once
#include <string>
#include <string_view>

#include "core/util/result.hpp"

namespace wb::card {

std::string base64_encode(std::string_view bytes);

// Errors (Errc::format) name the offending offset; the caller prefixes the
// file and chunk it came from.
Result<std::string> base64_decode(std::string_view text);

}  // namespace wb::card
