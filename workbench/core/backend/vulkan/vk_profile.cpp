#include "core/backend/vulkan/vk_profile.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace wb::vk {

bool DispatchProfile::requested() {
  static const bool on = [] {
    const char* e = std::getenv("WB_VK_PROFILE");
    return e && *e && std::strcmp(e, "0") != 0;
  }();
  return on;
}

void DispatchProfile::add(const std::string& key, double ns, uint64_t calls) {
  std::lock_guard lock(mu_);
  Entry& e = entries_[key];
  e.calls += calls;
  e.ns += ns;
}

bool DispatchProfile::empty() const {
  std::lock_guard lock(mu_);
  return entries_.empty();
}

void DispatchProfile::print(std::FILE* out) const {
  std::lock_guard lock(mu_);
  std::map<std::string, double> tag_total;  // tag -> "[gpu]" ns
  for (const auto& [key, e] : entries_) {
    const auto sp = key.find(' ');
    if (sp != std::string::npos && key.compare(sp + 1, std::string::npos, "[gpu]") == 0)
      tag_total[key.substr(0, sp)] = e.ns;
  }
  std::vector<std::pair<std::string, Entry>> rows(entries_.begin(), entries_.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.ns > b.second.ns; });
  for (const auto& [key, e] : rows) {
    const auto sp = key.find(' ');
    const std::string tag = sp == std::string::npos ? key : key.substr(0, sp);
    const auto it = tag_total.find(tag);
    const double share = it != tag_total.end() && it->second > 0 ? e.ns / it->second : 0.0;
    std::fprintf(out, "vk_profile %s calls %llu total_ms %.3f mean_us %.2f share %.3f\n", key.c_str(),
                 static_cast<unsigned long long>(e.calls), e.ns / 1e6, e.calls ? e.ns / 1e3 / double(e.calls) : 0.0,
                 share);
  }
}

}  // namespace wb::vk
