#include "core/model/model.hpp"

#include <limits>

namespace wb {

const char* arch_name(Arch a) {
  switch (a) {
    case Arch::v4: return "rwkv4";
    case Arch::v5_1: return "rwkv5.1";
    case Arch::v5_2: return "rwkv5.2";
    case Arch::v6: return "rwkv6";
    case Arch::v7: return "rwkv7";
  }
  return "?";
}

State::State(const State& o) { *this = o; }

State& State::operator=(const State& o) {
  if (this == &o) return *this;
  store_ = o.store_ ? o.store_->clone() : nullptr;
  if (store_ && o.host_stale_) {
    // A fork on the device: the host copy is not needed until someone asks.
    data_.assign(o.data_.size(), 0.0f);
    host_stale_ = true;
  } else {
    o.sync();
    data_ = o.data_;
    host_stale_ = false;
  }
  return *this;
}

void State::sync() const {
  if (!host_stale_ || !store_) return;
  if (!store_->read(data_)) std::fill(data_.begin(), data_.end(), std::numeric_limits<float>::quiet_NaN());
  host_stale_ = false;
}

std::span<float> State::data() {
  sync();
  store_.reset();  // the caller may write: the host copy is the only one now
  return data_;
}

std::span<const float> State::data() const {
  sync();
  return data_;
}

bool State::operator==(const State& o) const {
  sync();
  o.sync();
  return data_ == o.data_;
}

}  // namespace wb
