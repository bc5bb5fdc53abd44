#include "core/backend/vulkan/rwkv_vulkan.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <string_view>

#include "core/backend/vulkan/read_bandwidth.hpp"

namespace wb::vk {

// ---------------------------------------------------------------- loading

Result<const TensorView*> WeightLoader::need(const std::string& name) const {
  const TensorView* t = tf_.find(name);
  if (!t) return make_error(Errc::format, "{}: tensor '{}' is missing", tf_.path, name);
  return t;
}

Result<std::vector<float>> WeightLoader::vec(const std::string& name, uint64_t n) const {
  WB_TRY(t, need(name));
  if (t->numel() != n)
    return make_error(Errc::format, "{}: tensor '{}' has {} elements, expected {}", tf_.path, name, t->numel(), n);
  auto v = tensor_to_f32(*t);
  if (!v) return make_error(v.error().code, "{}: {}", tf_.path, v.error().message);
  return v;
}

Result<Buffer> WeightLoader::vec_buffer(const std::string& name, uint64_t n) const {
  WB_TRY(v, vec(name, n));
  return upload_floats(ctx_, v);
}

Result<DeviceMatrix> WeightLoader::matrix(const std::string& name, int64_t out, int64_t in) const {
  WB_TRY(t, need(name));
  // Converters may add or squeeze unit dimensions; only the two real ones count.
  bool ok = t->shape.size() == 2 && t->shape[0] == out && t->shape[1] == in;
  if (!ok) {
    std::vector<int64_t> dims, want;
    for (int64_t d : t->shape)
      if (d != 1) dims.push_back(d);
    for (int64_t d : {out, in})
      if (d != 1) want.push_back(d);
    ok = dims == want;
  }
  if (!ok) return make_error(Errc::format, "{}: tensor '{}' should be {}x{}", tf_.path, name, out, in);
  TensorView v = *t;
  v.shape = {out, in};
  UploadOptions uo;
  uo.f16 = opt_.f16_weights;
  auto m = upload_matrix(ctx_, v, uo);
  if (!m) return make_error(m.error().code, "{}: {}", tf_.path, m.error().message);
  return m;
}

Result<DeviceMatrix> WeightLoader::matrix_from(std::span<const float> data, int64_t rows, int64_t cols,
                                               DType source, std::optional<WeightType> as) const {
  const WeightType type =
      as ? *as : (source == DType::f16 || opt_.f16_weights) ? WeightType::f16 : WeightType::f32;
  auto m = upload_matrix_f32(ctx_, data, static_cast<uint32_t>(rows), static_cast<uint32_t>(cols), type, {});
  if (!m) return make_error(m.error().code, "{}: {}", tf_.path, m.error().message);
  return m;
}

Result<DeviceMatrix> WeightLoader::matrix_transposed(const std::string& name, int64_t out, int64_t in,
                                                     std::optional<WeightType> as) const {
  WB_TRY(t, need(name));
  if (t->shape.size() != 2 || t->shape[0] != in || t->shape[1] != out)
    return make_error(Errc::format, "{}: tensor '{}' should be {}x{}", tf_.path, name, in, out);
  WB_TRY(f, vec(name, static_cast<uint64_t>(in * out)));
  std::vector<float> tr(f.size());
  for (int64_t i = 0; i < in; ++i)
    for (int64_t o = 0; o < out; ++o) tr[o * in + i] = f[i * out + o];
  return matrix_from(tr, out, in, t->dtype, as);
}

Result<ModelInfo> common_info(const TensorFile& tf, Arch arch) {
  ModelInfo info;
  info.arch = arch;
  info.format = tf.format;
  info.path = tf.path;
  const TensorView* emb = tf.find("emb.weight");
  const TensorView* fk = tf.find("blocks.0.ffn.key.weight");
  if (!emb || emb->shape.size() != 2 || emb->shape[0] <= 0 || emb->shape[1] <= 0)
    return make_error(Errc::format, "{}: no 2-D emb.weight", tf.path);
  if (!fk || fk->shape.size() != 2) return make_error(Errc::format, "{}: no 2-D blocks.0.ffn.key.weight", tf.path);
  if (emb->shape[0] > (1 << 24) || emb->shape[1] > (1 << 16) || fk->shape[0] > (1 << 20))
    return make_error(Errc::limit, "{}: implausible sizes n_vocab={} n_embd={} n_ffn={}", tf.path, emb->shape[0],
                      emb->shape[1], fk->shape[0]);
  info.n_vocab = static_cast<int>(emb->shape[0]);
  info.n_embd = static_cast<int>(emb->shape[1]);
  info.n_ffn = static_cast<int>(fk->shape[0]);
  while (tf.find(fmt::format("blocks.{}.ln1.weight", info.n_layer))) ++info.n_layer;
  if (info.n_layer == 0) return make_error(Errc::format, "{}: no layers (no blocks.0.ln1.weight)", tf.path);
  // params: every tensor; dtype: the type holding most elements of the matrices
  // (as the CPU runtime reports it, so model keys agree across backends).
  std::map<DType, uint64_t> by_type;
  for (const auto& t : tf.tensors) {
    info.params += t.numel();
    if (t.shape.size() >= 2) by_type[t.dtype] += t.numel();
  }
  DType best = DType::f32;
  uint64_t most = 0;
  for (auto [t, n] : by_type)
    if (n > most) most = n, best = t;
  info.dtype = dtype_name(best);
  auto fp = tf.meta.find("content_fingerprint");
  info.model_key = fmt::format("{}-{}-{}", fp != tf.meta.end() ? fp->second : "unhashed", info.format, info.dtype);
  return info;
}

Result<std::unique_ptr<Context>> make_context(const VulkanModelOptions& opt) {
  ContextOptions co;
  co.device_index = opt.device_index;
  co.gpu_only = opt.gpu_only;
  co.validation = opt.validation;
  co.kernels = opt.kernels;
  co.map_device_memory = opt.map_device_memory;
  co.log = opt.log;
  return Context::create(co);
}

// ---------------------------------------------------------------- state pool

// Device buffers cut into fixed-size state slots. Shared (shared_ptr) by the
// model and every State stored in it, so a State outliving its model can
// still be read back or copied.
class StatePool {
 public:
  struct Slot {
    uint32_t chunk = 0, index = 0;
  };

  StatePool(std::shared_ptr<Context> ctx, uint64_t slot_floats)
      : ctx_(std::move(ctx)), slot_floats_(slot_floats), cs_(*ctx_) {
    const uint64_t range = ctx_->device().max_storage_buffer_range;
    per_chunk_ = static_cast<uint32_t>(std::clamp<uint64_t>(range / (slot_floats_ * 4), 1, 16));
  }

  // Locked: another thread may be adding a chunk (a fork); references stay valid.
  const Buffer& buffer(Slot s) const {
    std::lock_guard lock(mu_);
    return chunks_[s.chunk];
  }
  // Float offset of the slot in its buffer.
  uint32_t base(Slot s) const { return static_cast<uint32_t>(s.index * slot_floats_); }
  uint64_t slot_bytes() const { return slot_floats_ * 4; }
  uint64_t bytes() const {
    std::lock_guard lock(mu_);
    return uint64_t{static_cast<uint32_t>(chunks_.size())} * per_chunk_ * slot_bytes();
  }
  size_t in_use() const {
    std::lock_guard lock(mu_);
    return in_use_;
  }

  Result<Slot> acquire() {
    std::lock_guard lock(mu_);
    if (free_.empty()) {
      if (slot_floats_ * 4 > ctx_->device().max_storage_buffer_range)
        return make_error(Errc::unsupported, "vulkan: a state of {} bytes exceeds the device's buffer range",
                          slot_floats_ * 4);
      WB_TRY(b, ctx_->make_buffer(uint64_t{per_chunk_} * slot_bytes(), Memory::device));
      chunks_.push_back(std::move(b));
      for (uint32_t i = per_chunk_; i-- > 0;) free_.push_back({static_cast<uint32_t>(chunks_.size() - 1), i});
    }
    Slot s = free_.back();
    free_.pop_back();
    ++in_use_;
    return s;
  }
  void release(Slot s) {
    std::lock_guard lock(mu_);
    free_.push_back(s);
    --in_use_;
  }

  Status write(Slot s, std::span<const float> v) {
    Buffer* b;
    {
      std::lock_guard lock(mu_);
      b = &chunks_[s.chunk];
    }
    return ctx_->upload(*b, uint64_t{base(s)} * 4, v.data(), v.size_bytes());
  }
  Status read(Slot s, std::span<float> v) const {
    return ctx_->download(buffer(s), uint64_t{base(s)} * 4, v.data(), v.size_bytes());
  }
  // A device-side copy (forking), submitted on its own and waited for.
  Status copy(Slot from, Slot to) {
    std::lock_guard lock(copy_mu_);
    WB_CHECK(cs_.begin());
    WB_CHECK(cs_.copy(buffer(from), uint64_t{base(from)} * 4, buffer(to), uint64_t{base(to)} * 4, slot_bytes()));
    return cs_.submit_and_wait();
  }

 private:
  std::shared_ptr<Context> ctx_;
  uint64_t slot_floats_;
  uint32_t per_chunk_ = 1;
  mutable std::mutex mu_;  // chunks_ only grows; buffers never move (std::deque)
  std::deque<Buffer> chunks_;
  std::vector<Slot> free_;
  size_t in_use_ = 0;
  std::mutex copy_mu_;
  CommandStream cs_;
};

namespace {

class VkStateStore final : public StateStore {
 public:
  VkStateStore(std::shared_ptr<StatePool> pool, StatePool::Slot slot) : pool_(std::move(pool)), slot_(slot) {}
  ~VkStateStore() override { pool_->release(slot_); }

  std::unique_ptr<StateStore> clone() const override {
    auto s = pool_->acquire();
    if (!s) return nullptr;
    auto copy = std::make_unique<VkStateStore>(pool_, *s);
    if (!pool_->copy(slot_, *s)) return nullptr;
    return copy;
  }
  Status read(std::span<float> out) const override { return pool_->read(slot_, out); }

  const StatePool* pool() const { return pool_.get(); }
  StatePool::Slot slot() const { return slot_; }

 private:
  std::shared_ptr<StatePool> pool_;
  StatePool::Slot slot_;
};

// The store of a State resident in `pool`, else nullptr.
const VkStateStore* resident_in(const State& s, const StatePool* pool) {
  auto* st = dynamic_cast<const VkStateStore*>(s.store());
  return st && st->pool() == pool ? st : nullptr;
}

}  // namespace

// ---------------------------------------------------------------- model

RwkvVulkan::RwkvVulkan(std::shared_ptr<Context> ctx, ModelInfo info, const VulkanModelOptions& opt)
    : ctx_(std::move(ctx)), ops_(*ctx_), cs_(*ctx_), info_(std::move(info)), opt_(opt) {}

State RwkvVulkan::new_state() const {
  State s(state_floats());
  init_state(s);
  return s;
}

Result<double> RwkvVulkan::read_bandwidth_gbs(uint64_t bytes) const {
  if (ctx_->device().type == "cpu")
    return make_error(Errc::unsupported, "vulkan: {} is a CPU device: its memory is the host's", ctx_->device().name);
  return measure_read_bandwidth(*ctx_, bytes);
}

VulkanMemory RwkvVulkan::memory() const {
  VulkanMemory m;
  m.weights = weight_bytes_;
  m.states = state_arena_.size() + (pool_ ? pool_->bytes() : 0);
  m.scratch = ctx_->allocated_bytes() - weight_bytes_ - m.states;
  m.validation_errors = ctx_->validation_errors();
  m.device = ctx_->device().name;
  return m;
}

Status RwkvVulkan::scratch(uint64_t bytes, Buffer& b) {
  WB_TRY(x, ctx_->make_buffer(std::max<uint64_t>(bytes, 16), Memory::device));
  b = std::move(x);
  return {};
}

Status RwkvVulkan::read_meta_overrides(const TensorFile& tf) {
  if (auto it = tf.meta.find("rescale_every_n_layers"); it != tf.meta.end()) {
    char* end = nullptr;
    const long v = std::strtol(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end != '\0' || v < 0 || v > 4096)
      return make_error(Errc::format, "{}: rescale_every_n_layers = '{}' is not a layer count", tf.path, it->second);
    rescale_every_ = static_cast<int>(v);
  }
  if (auto it = tf.meta.find("group_norm_eps"); it != tf.meta.end()) {
    char* end = nullptr;
    const double v = std::strtod(it->second.c_str(), &end);
    if (it->second.empty() || *end != '\0' || !(v > 0 && v < 1))
      return make_error(Errc::format, "{}: group_norm_eps = '{}' is not a small positive number", tf.path, it->second);
    info_.group_norm_eps = static_cast<float>(v);
  }
  return {};
}

Status RwkvVulkan::load(const TensorFile& tf) {
  WeightLoader L(*ctx_, tf, opt_);
  C_ = static_cast<uint32_t>(info_.n_embd);
  F_ = static_cast<uint32_t>(info_.n_ffn);
  if (C_ % 8 != 0)
    return make_error(Errc::unsupported, "{}: n_embd {} is not a multiple of 8 (the Vulkan kernels need it)", tf.path,
                      C_);
  WB_CHECK(read_meta_overrides(tf));
  // GPUs: long chunks give the tiled matmuls more 64x64 tiles (a 768-row
  // product of 64 tokens has only 12, for 100+ multiprocessors) and cut
  // submits; lavapipe measured best at 64 (its scratch stays in cache).
  chunk_ = opt_.max_chunk ? opt_.max_chunk : ctx_->prefers_texel_kernels() ? 64u : 512u;
  batch_ = std::max(1u, opt_.max_batch);
  const char* reuse = std::getenv("WB_VK_REUSE");
  reuse_recordings_ = opt_.reuse_recordings && !(reuse && std::string_view(reuse) == "0");
  max_vec_ = std::max(chunk_, batch_);
  const uint64_t before = ctx_->allocated_bytes();

  WB_TRY(emb, L.need("emb.weight"));
  emb_ = *emb;
  WB_TRY(row_bytes, dtype_bytes_for(emb_.dtype, C_));
  if (emb_.nbytes < row_bytes * static_cast<uint64_t>(info_.n_vocab) || !emb_.data)
    return make_error(Errc::format, "{}: emb.weight has {} bytes, too few for {} rows", tf.path, emb_.nbytes,
                      info_.n_vocab);
  owners_ = tf.owners;
  WB_TRY(ln0w, L.vec_buffer("blocks.0.ln0.weight", C_));
  WB_TRY(ln0b, L.vec_buffer("blocks.0.ln0.bias", C_));
  WB_TRY(lnow, L.vec_buffer("ln_out.weight", C_));
  WB_TRY(lnob, L.vec_buffer("ln_out.bias", C_));
  ln0_w_ = std::move(ln0w), ln0_b_ = std::move(ln0b), lnout_w_ = std::move(lnow), lnout_b_ = std::move(lnob);
  WB_TRY(head, L.matrix("head.weight", info_.n_vocab, C_));
  head_ = std::move(head);
  WB_CHECK(load_layers(L));
  weight_bytes_ = ctx_->allocated_bytes() - before;

  const uint64_t vecC = uint64_t{max_vec_} * C_ * 4;
  WB_TRY(inb, ctx_->make_buffer(vecC, Memory::host));
  in_ = std::move(inb);
  for (Buffer* b : {&x_, &xln_, &tmp_a_, &tmp_b_}) WB_CHECK(scratch(vecC, *b));
  WB_CHECK(scratch(uint64_t{mix_slots()} * vecC, xmix_));
  WB_CHECK(scratch(uint64_t{max_vec_} * F_ * 4, ffk_));
  WB_TRY(lg, ctx_->make_buffer(uint64_t{batch_} * info_.n_vocab * 4, Memory::host));
  logits_ = std::move(lg);
  WB_TRY(gh, ctx_->make_buffer(16, Memory::host));
  give_up_host_ = std::move(gh);
  WB_CHECK(scratch(uint64_t{batch_} * state_floats() * 4, state_arena_));
  if (state_arena_.size() > ctx_->device().max_storage_buffer_range)
    return make_error(Errc::unsupported, "{}: {} states of {} bytes exceed the device's buffer range; lower max_batch",
                      tf.path, batch_, state_floats() * 4);
  pool_ = std::make_shared<StatePool>(ctx_, state_floats());
  return {};
}

Result<RkvFfn> RwkvVulkan::load_rkv_ffn(WeightLoader& L, int layer, bool v6_names) {
  const std::string p = fmt::format("blocks.{}.", layer);
  RkvFfn f;
  WB_TRY(lw, L.vec_buffer(p + "ln2.weight", C_));
  WB_TRY(lb, L.vec_buffer(p + "ln2.bias", C_));
  f.ln_w = std::move(lw), f.ln_b = std::move(lb);
  WB_TRY(mk, L.vec(p + (v6_names ? "ffn.time_maa_k" : "ffn.time_mix_k"), C_));
  WB_TRY(mr, L.vec(p + (v6_names ? "ffn.time_maa_r" : "ffn.time_mix_r"), C_));
  std::vector<float> mix = std::move(mk);
  mix.insert(mix.end(), mr.begin(), mr.end());
  if (!v6_names)  // x*mix + prev*(1-mix) == x + (prev-x)*(1-mix)
    for (float& t : mix) t = 1.0f - t;
  WB_TRY(mb, upload_floats(*ctx_, mix));
  f.mix = std::move(mb);
  WB_TRY(fk, L.matrix(p + "ffn.key.weight", F_, C_));
  WB_TRY(fv, L.matrix(p + "ffn.value.weight", C_, F_));
  WB_TRY(fr, L.matrix(p + "ffn.receptance.weight", C_, C_));
  f.key = std::move(fk), f.value = std::move(fv), f.receptance = std::move(fr);
  return f;
}

Status RwkvVulkan::save_shift(const Buffer& src, uint32_t off, uint32_t T, uint32_t n_seq) {
  const uint64_t C = C_;
  for (uint32_t s = 0; s < n_seq; ++s)
    WB_CHECK(cs_.copy(src, (uint64_t{s} * T + T - 1) * C * 4, *state_buf_, (uint64_t{s} * state_floats() + off) * 4,
                      C * 4));
  return {};
}

Status RwkvVulkan::norm_mix(const Buffer& lw, const Buffer& lb, const Buffer& mix, uint32_t n_mix, uint32_t shift,
                            uint32_t T, uint32_t n_seq) {
  const uint32_t C = C_, n = T * n_seq, slot = static_cast<uint32_t>(state_floats());
  if (T == 1) return ops_.ln_mix_shift(cs_, x_, *state_buf_, lw, lb, mix, xmix_, {C, n, n_mix, shift, slot, kLayerNormEps});
  WB_CHECK(ops_.layer_norm(cs_, x_, 0, C, xln_, 0, C, lw, lb, C, n, kLayerNormEps));
  return ops_.token_mix(cs_, xln_, *state_buf_, mix, xmix_, {C, n, T, n_mix, shift, slot});
}

Status RwkvVulkan::norm_shift_copies(uint32_t shift, uint32_t T, uint32_t n_seq) {
  return T > 1 ? save_shift(xln_, shift, T, n_seq) : Status{};
}

Status RwkvVulkan::record_rkv_ffn(const RkvFfn& f, uint32_t l, uint32_t T, uint32_t n_seq) {
  const uint32_t C = C_, n = T * n_seq, off = layer_base(l);  // ffn shift is slot 0 of every layout
  WB_CHECK(norm_mix(f.ln_w, f.ln_b, f.mix, 2, off, T, n_seq));
  // Key and receptance read the same mix (and the shift copies only write the
  // state): one group, no barriers between them.
  cs_.begin_independent();
  WB_CHECK(norm_shift_copies(off, T, n_seq));
  WB_CHECK(ops_.matmul(cs_, f.key, xmix_, 0, C, ffk_, 0, F_, n, Act::relu_sq));
  WB_CHECK(ops_.matmul(cs_, f.receptance, xmix_, n * C, C, tmp_a_, 0, C, n));
  cs_.end_independent();
  WB_CHECK(ops_.matmul(cs_, f.value, ffk_, 0, F_, tmp_b_, 0, C, n));
  return ops_.eltwise(cs_, tmp_a_, tmp_b_, x_, n * C, EltOp::add_sigmoid_mul);
}

Status RwkvVulkan::check_state(const State& s) const {
  if (s.byte_size() != state_floats() * 4)
    return make_error(Errc::invalid_argument, "state has {} floats; this {} model needs {}", s.byte_size() / 4,
                      arch_name(info_.arch), state_floats());
  return {};
}

Status RwkvVulkan::check_logits(std::span<float> logits, size_t n) const {
  if (!logits.empty() && logits.size() != n * static_cast<size_t>(info_.n_vocab))
    return make_error(Errc::invalid_argument, "logits span has {} floats, expected {}", logits.size(),
                      n * static_cast<size_t>(info_.n_vocab));
  return {};
}

Status RwkvVulkan::prefill(std::span<const int32_t> tokens, State& state, std::span<float> logits) {
  std::lock_guard lock(mu_);
  WB_CHECK(check_state(state));
  WB_CHECK(check_logits(logits, 1));
  if (tokens.empty()) {
    if (!logits.empty()) return make_error(Errc::invalid_argument, "prefill of no tokens cannot give logits");
    return {};
  }
  State* sp = &state;
  for (size_t i = 0; i < tokens.size(); i += chunk_) {
    const size_t n = std::min<size_t>(chunk_, tokens.size() - i);
    const bool last = i + n == tokens.size();
    WB_CHECK(run(tokens.subspan(i, n), static_cast<uint32_t>(n), std::span<State* const>(&sp, 1),
                 last ? logits : std::span<float>()));
  }
  return {};
}

Status RwkvVulkan::decode(std::span<const int32_t> tokens, std::span<State* const> states, std::span<float> logits) {
  std::lock_guard lock(mu_);
  if (tokens.size() != states.size())
    return make_error(Errc::invalid_argument, "decode: {} tokens for {} states", tokens.size(), states.size());
  WB_CHECK(check_logits(logits, tokens.size()));
  for (size_t i = 0; i < states.size(); ++i) {
    if (!states[i]) return make_error(Errc::invalid_argument, "decode: null state");
    WB_CHECK(check_state(*states[i]));
    for (size_t j = 0; j < i; ++j)
      if (states[j] == states[i]) return make_error(Errc::invalid_argument, "decode: the same state appears twice");
  }
  const size_t V = static_cast<size_t>(info_.n_vocab);
  for (size_t i = 0; i < tokens.size(); i += batch_) {
    const size_t n = std::min<size_t>(batch_, tokens.size() - i);
    WB_CHECK(run(tokens.subspan(i, n), 1, states.subspan(i, n),
                 logits.empty() ? logits : logits.subspan(i * V, n * V)));
  }
  return {};
}

std::vector<std::string> RwkvVulkan::decode_variants() const {
  std::lock_guard lock(mu_);
  return offered_variants();
}

Status RwkvVulkan::use_decode_variant(std::string_view name) {
  std::lock_guard lock(mu_);
  WB_CHECK(switch_variant(name));
  recorded_key_.clear();  // the next call records anew, the new way
  return {};
}

std::string RwkvVulkan::decode_variant() const {
  std::lock_guard lock(mu_);
  return active_variant();
}

Status RwkvVulkan::switch_variant(std::string_view name) {
  if (name == active_variant()) return {};
  return make_error(Errc::unsupported, "decode variant '{}' is not offered by this model", name);
}

Status RwkvVulkan::embed(std::span<const int32_t> tokens, float* dst) const {
  WB_TRY(row_bytes, dtype_bytes_for(emb_.dtype, C_));
  for (size_t i = 0; i < tokens.size(); ++i) {
    const int32_t t = tokens[i];
    if (t < 0 || t >= info_.n_vocab)
      return make_error(Errc::out_of_range, "token {} is outside the vocabulary (0..{})", t, info_.n_vocab - 1);
    TensorView row = emb_;
    row.shape = {static_cast<int64_t>(C_)};
    row.data = emb_.data + static_cast<uint64_t>(t) * row_bytes;
    row.nbytes = row_bytes;
    WB_TRY(v, tensor_to_f32(row));
    std::memcpy(dst + i * C_, v.data(), C_ * 4);
  }
  return {};
}

Status RwkvVulkan::make_resident(std::span<State* const> states) {
  for (State* st : states) {
    if (resident_in(*st, pool_.get())) continue;
    WB_TRY(slot, pool_->acquire());
    auto store = std::make_unique<VkStateStore>(pool_, slot);
    const State& host = *st;  // const: reads a foreign store back without dropping it first
    WB_CHECK(pool_->write(slot, host.data()));
    st->attach_store(std::move(store));
  }
  return {};
}

// Records one call (gather the states, the blocks, the head, scatter back) and
// runs it.
Status RwkvVulkan::record_and_submit(uint32_t T, std::span<State* const> states, bool want_logits) {
  const uint32_t n_seq = static_cast<uint32_t>(states.size());
  const uint32_t C = C_, V = static_cast<uint32_t>(info_.n_vocab), n = T * n_seq;
  const uint64_t sbytes = state_floats() * 4;
  std::vector<const VkStateStore*> slots(n_seq);
  for (uint32_t s = 0; s < n_seq; ++s) slots[s] = resident_in(*states[s], pool_.get());
  WB_CHECK(cs_.begin(reuse_recordings_));
  // Gathered into the arena's contiguous slots by device copies (and scattered
  // back below). Binding a pool slot in place for one sequence would save two
  // copies, but gave wrong RWKV-5/6 results on lavapipe from the second call on
  // (not understood yet; the gathered path is what the tests hold).
  // The copies and ln0 (which reads in_, written by the host before the submit)
  // touch disjoint memory: one dependent step, not n_seq + 1.
  cs_.begin_independent();
  for (uint32_t s = 0; s < n_seq; ++s)
    WB_CHECK(cs_.copy(pool_->buffer(slots[s]->slot()), uint64_t{pool_->base(slots[s]->slot())} * 4, state_arena_,
                      s * sbytes, sbytes));
  state_buf_ = &state_arena_;
  state_base_ = 0;
  WB_CHECK(ops_.layer_norm(cs_, in_, 0, C, x_, 0, C, ln0_w_, ln0_b_, C, n, kLayerNormEps));
  cs_.end_independent();
  for (uint32_t l = 0; l < static_cast<uint32_t>(info_.n_layer); ++l) {
    WB_CHECK(record_layer(l, T, n_seq));
    // GGUF/HF-style checkpoints halve the residual stream after every n-th block.
    if (rescale_every_ > 0 && (l + 1) % static_cast<uint32_t>(rescale_every_) == 0)
      WB_CHECK(ops_.eltwise(cs_, x_, x_, x_, n * C, EltOp::half));
  }
  // The states go back to their slots in the same step as ln_out (disjoint
  // memory); after a call that may give up, only if it did not (the flag's word
  // comes back to the host with them).
  const Buffer* flag = give_up_flag(T, n_seq);
  cs_.begin_independent();
  for (uint32_t s = 0; s < n_seq; ++s) {
    const Buffer& slot_buf = pool_->buffer(slots[s]->slot());
    const uint32_t base = pool_->base(slots[s]->slot());
    if (flag)
      WB_CHECK(ops_.copy_unless(cs_, state_arena_, static_cast<uint32_t>(s * state_floats()), slot_buf, base,
                                static_cast<uint32_t>(state_floats()), *flag, 1));
    else
      WB_CHECK(cs_.copy(state_arena_, s * sbytes, slot_buf, uint64_t{base} * 4, sbytes));
  }
  if (flag) WB_CHECK(cs_.copy(*flag, 4, give_up_host_, 0, 4));
  // Only each sequence's last token needs logits.
  if (want_logits)
    WB_CHECK(ops_.layer_norm(cs_, x_, (T - 1) * C, T * C, xln_, 0, C, lnout_w_, lnout_b_, C, n_seq, kLayerNormEps));
  cs_.end_independent();
  if (want_logits) WB_CHECK(ops_.matmul(cs_, head_, xln_, 0, C, logits_, 0, V, n_seq));
  state_buf_ = nullptr;
  last_recording_ = {cs_.dispatch_count(), cs_.barrier_count()};
  return cs_.submit_and_wait();
}

Status RwkvVulkan::run(std::span<const int32_t> tokens, uint32_t T, std::span<State* const> states,
                       std::span<float> logits) {
  const uint32_t n_seq = static_cast<uint32_t>(states.size());
  const uint32_t n = static_cast<uint32_t>(tokens.size());
  const uint32_t V = static_cast<uint32_t>(info_.n_vocab);
  if (n != T * n_seq || n > max_vec_) return make_error(Errc::internal, "vulkan rwkv: bad batch shape");
  if (const StepGate* g = step_gate()) g->pass();
  WB_CHECK(embed(tokens, static_cast<float*>(in_.mapped())));
  WB_CHECK(make_resident(states));

  cs_.set_profile_tag(T > 1 ? "prefill" : n_seq > 1 ? "batch" : "decode");
  // The commands depend only on the shape, the states' slots and whether logits
  // are wanted; the tokens reach the device through in_. So a decode step like
  // the last one submits the last recording again: on a GPU, recording a few
  // hundred dispatches per token cost host time the GPU waited for.
  std::vector<uint64_t> key{T, n_seq, logits.empty() ? 0u : 1u};
  for (State* st : states) {
    const StatePool::Slot slot = resident_in(*st, pool_.get())->slot();
    key.push_back(uint64_t{slot.chunk} << 32 | slot.index);
  }
  // Whether this call copies a give-up flag back (a resubmitted recording was
  // made with the same answer: gave_up() changes it, and then the call records anew).
  const bool guarded = give_up_flag(T, n_seq) != nullptr;
  Status done;
  if (reuse_recordings_ && cs_.can_resubmit() && key == recorded_key_) {
    done = cs_.resubmit();
    if (done) ++reused_;
  } else {
    recorded_key_ = std::move(key);
    done = record_and_submit(T, states, !logits.empty());
  }
  // Whatever happened on the device, the host copies are no longer current.
  for (State* st : states) st->mark_store_newer();
  WB_CHECK(done);
  uint32_t given_up = 0;
  if (guarded) WB_CHECK(ctx_->download(give_up_host_, 0, &given_up, 4));
  if (given_up != 0) {
    // The kernel gave up midway and the states stayed as they were: the same
    // call again without it (in_ still holds the embeddings); the next call
    // like this one resubmits that recording.
    gave_up();
    WB_CHECK(record_and_submit(T, states, !logits.empty()));
  }
  if (logits.empty()) return {};
  return ctx_->download(logits_, 0, logits.data(), uint64_t{n_seq} * V * 4);
}

}  // namespace wb::vk
