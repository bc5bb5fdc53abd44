// GPU time per kernel, from timestamp queries, when WB_VK_PROFILE=1.
//
// Each CommandStream writes a timestamp after every dispatch and copy; after
// its fence signals, the gaps between them are charged to "<tag> <pipeline>"
// (the tag says what the submit was: prefill, decode, batch, other). The gap
// includes the barrier before the command, which is the cost a GPU pays per
// dependent dispatch. The Context prints the table to stderr when it is
// destroyed. Off by default: the queries cost a little GPU time.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace wb::vk {

class DispatchProfile {
 public:
  // WB_VK_PROFILE set to anything but "" or "0".
  static bool requested();

  void add(const std::string& key, double ns, uint64_t calls = 1);
  bool empty() const;
  // One line per key, largest total first:
  //   vk_profile <tag> <name> calls N total_ms T mean_us M share S
  // shares are of the tag's "[gpu]" total.
  void print(std::FILE* out) const;

 private:
  struct Entry {
    uint64_t calls = 0;
    double ns = 0;
  };
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace wb::vk
