// The whole tree as JSON, for export, import and exchange with other tools.
//
//   std::string j = wb::tree::to_json(tree);
//   WB_TRY(copy, wb::tree::from_json(j));      // validated; never throws
//
// {"format": "wb-tree", "version": 1, "nodes": [ {"id", "parent", "text" (or
//  "text_hex" when the bytes are not valid UTF-8), "tokens", "origin",
//  "sampler", "seed", "alternatives": [[[token, prob], ...], ...],
//  "created_ms", "label", "bookmark", "metadata"}, ... ]}
// Nodes are listed parents first; siblings keep their order.
#pragma once
#include <string>
#include <string_view>

#include "core/tree/tree.hpp"

namespace wb::tree {

std::string to_json(const Tree& t);
Result<Tree> from_json(std::string_view json);

}  // namespace wb::tree
