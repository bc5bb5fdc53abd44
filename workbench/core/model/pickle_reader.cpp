#include "core/model/pickle_reader.hpp"

#include <cstring>
#include <unordered_map>

#include "core/model/format_util.hpp"

namespace wb::pickle {

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::none: return "None";
    case Kind::boolean: return "bool";
    case Kind::integer: return "int";
    case Kind::floating: return "float";
    case Kind::string: return "str";
    case Kind::bytes: return "bytes";
    case Kind::tuple: return "tuple";
    case Kind::list: return "list";
    case Kind::dict: return "dict";
    case Kind::global: return "global";
    case Kind::storage: return "storage";
    case Kind::tensor: return "tensor";
  }
  return "?";
}

namespace {

struct StorageType {
  const char* name;
  bool known;
  DType dtype;
};
// Storage classes torch.save names in a persistent id. Only f32/f16/bf16 make
// tensors; the others are recognised so the error can name the dtype.
const StorageType kStorageTypes[] = {
    {"FloatStorage", true, DType::f32},     {"HalfStorage", true, DType::f16},
    {"BFloat16Storage", true, DType::bf16}, {"DoubleStorage", false, DType::f32},
    {"LongStorage", false, DType::f32},     {"IntStorage", false, DType::f32},
    {"ShortStorage", false, DType::f32},    {"CharStorage", false, DType::f32},
    {"ByteStorage", false, DType::f32},     {"BoolStorage", false, DType::f32},
};

bool global_allowed(const std::string& module, const std::string& name) {
  if (module == "collections" && name == "OrderedDict") return true;
  if (module == "torch._utils" && (name == "_rebuild_tensor_v2" || name == "_rebuild_parameter")) return true;
  if (module == "torch")
    for (const auto& st : kStorageTypes)
      if (name == st.name) return true;
  return false;
}

std::string printable(const std::string& s) {
  std::string o;
  for (unsigned char c : s.substr(0, 80)) o += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  return o;
}

class Machine {
 public:
  Machine(std::span<const uint8_t> b, const Limits& l) : r_(b), lim_(l) {}

  Result<Pickle> run() {
    while (true) {
      const size_t at = r_.pos();
      WB_TRY(op, r_.u8("opcode"));
      auto st = step(op);
      if (!st) return make_error(st.error().code, "pickle opcode 0x{:02x} at byte {}: {}", op, at, st.error().message);
      if (done_) break;
    }
    Pickle p;
    p.arena = std::move(arena_);
    p.root = root_;
    return p;
  }

 private:
  Result<Object*> make(Kind k) {
    if (arena_.size() >= lim_.max_objects) return make_error(Errc::limit, "more than {} objects", lim_.max_objects);
    arena_.push_back(std::make_unique<Object>());
    arena_.back()->kind = k;
    return arena_.back().get();
  }
  Status push(const Object* o) {
    if (stack_.size() >= lim_.max_stack) return make_error(Errc::limit, "stack deeper than {}", lim_.max_stack);
    stack_.push_back(o);
    return {};
  }
  Result<const Object*> pop() {
    if (stack_.size() <= mark_floor()) return make_error(Errc::format, "stack underflow");
    const Object* o = stack_.back();
    stack_.pop_back();
    return o;
  }
  size_t mark_floor() const { return marks_.empty() ? 0 : marks_.back(); }
  Result<std::vector<const Object*>> pop_mark() {
    if (marks_.empty()) return make_error(Errc::format, "no MARK on the stack");
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<const Object*> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  // Containers are only ever mutated through the stack; the arena owns them.
  Object* mut(const Object* o) { return const_cast<Object*>(o); }

  Status push_int(int64_t v) {
    WB_TRY(o, make(Kind::integer));
    o->i = v;
    return push(o);
  }
  Status push_str(Kind k, uint64_t n) {
    WB_TRY(b, r_.bytes(n, "string"));
    WB_TRY(o, make(k));
    o->s.assign(reinterpret_cast<const char*>(b.data()), b.size());
    if (k == Kind::string && !fmt_util::valid_utf8(o->s)) return make_error(Errc::format, "string is not UTF-8");
    return push(o);
  }
  Status push_tuple(std::vector<const Object*> items) {
    WB_TRY(o, make(Kind::tuple));
    o->items = std::move(items);
    return push(o);
  }
  Status memo_put(uint32_t idx) {
    if (stack_.size() <= mark_floor()) return make_error(Errc::format, "memoising an empty stack");
    if (memo_.size() >= lim_.max_memo && !memo_.count(idx))
      return make_error(Errc::limit, "memo larger than {}", lim_.max_memo);
    memo_[idx] = stack_.back();
    return {};
  }
  Status memo_get(uint32_t idx) {
    auto it = memo_.find(idx);
    if (it == memo_.end()) return make_error(Errc::format, "memo entry {} does not exist", idx);
    return push(it->second);
  }
  Status global(std::string module, std::string name) {
    if (!global_allowed(module, name))
      return make_error(Errc::security,
                        "refused GLOBAL '{}.{}': a state dict may only name OrderedDict, torch tensor rebuilders "
                        "and torch storage types; nothing was executed",
                        printable(module), printable(name));
    WB_TRY(o, make(Kind::global));
    o->s = module + "." + name;
    return push(o);
  }
  Status set_item(const Object* d, const Object* k, const Object* v) {
    if (d->kind != Kind::dict) return make_error(Errc::format, "SETITEM on a {}", kind_name(d->kind));
    mut(d)->entries.emplace_back(k, v);
    return {};
  }
  Result<std::vector<int64_t>> int_tuple(const Object* t, const char* what) {
    if (t->kind != Kind::tuple) return make_error(Errc::format, "tensor {} is a {}, not a tuple", what, kind_name(t->kind));
    if (t->items.size() > 8) return make_error(Errc::format, "tensor {} has {} dimensions", what, t->items.size());
    std::vector<int64_t> v;
    for (const Object* x : t->items) {
      if (x->kind != Kind::integer) return make_error(Errc::format, "tensor {} holds a {}", what, kind_name(x->kind));
      v.push_back(x->i);
    }
    return v;
  }
  Status persistent_load(const Object* pid) {
    // ('storage', torch.<Type>Storage, key, location, numel)
    if (pid->kind != Kind::tuple || pid->items.size() != 5 || pid->items[0]->kind != Kind::string ||
        pid->items[0]->s != "storage")
      return make_error(Errc::format, "persistent id is not a ('storage', type, key, location, numel) tuple");
    const Object* type = pid->items[1];
    const Object* key = pid->items[2];
    const Object* numel = pid->items[4];
    if (type->kind != Kind::global || key->kind != Kind::string || numel->kind != Kind::integer || numel->i < 0)
      return make_error(Errc::format, "malformed storage persistent id");
    WB_TRY(o, make(Kind::storage));
    o->s = key->s;
    o->storage_type = type->s;
    o->numel = static_cast<uint64_t>(numel->i);
    for (const auto& st : kStorageTypes)
      if (type->s == std::string("torch.") + st.name) {
        o->dtype_known = st.known;
        o->dtype = st.dtype;
      }
    return push(o);
  }
  Status reduce(const Object* fn, const Object* args) {
    if (fn->kind != Kind::global) return make_error(Errc::security, "REDUCE on a {} (only allowed globals)", kind_name(fn->kind));
    if (args->kind != Kind::tuple) return make_error(Errc::format, "REDUCE arguments are not a tuple");
    const auto& a = args->items;
    if (fn->s == "collections.OrderedDict") {
      if (!a.empty()) return make_error(Errc::format, "OrderedDict() with arguments");
      WB_TRY(d, make(Kind::dict));
      return push(d);
    }
    if (fn->s == "torch._utils._rebuild_parameter") {
      if (a.size() < 1 || a[0]->kind != Kind::tensor) return make_error(Errc::format, "_rebuild_parameter without a tensor");
      return push(a[0]);
    }
    if (fn->s == "torch._utils._rebuild_tensor_v2") {
      // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
      if (a.size() < 4) return make_error(Errc::format, "_rebuild_tensor_v2 with {} arguments", a.size());
      if (a[0]->kind != Kind::storage) return make_error(Errc::format, "_rebuild_tensor_v2 without a storage");
      if (a[1]->kind != Kind::integer || a[1]->i < 0) return make_error(Errc::format, "bad tensor storage offset");
      WB_TRY(t, make(Kind::tensor));
      t->storage = a[0];
      t->offset = a[1]->i;
      WB_TRY(shape, int_tuple(a[2], "size"));
      WB_TRY(stride, int_tuple(a[3], "stride"));
      if (shape.size() != stride.size()) return make_error(Errc::format, "tensor size and stride differ in length");
      t->shape = std::move(shape);
      t->stride = std::move(stride);
      return push(t);
    }
    return make_error(Errc::security, "REDUCE of '{}' is not allowed", printable(fn->s));
  }

  Status step(uint8_t op) {
    switch (op) {
      case 0x80: { WB_TRY(v, r_.u8("protocol")); if (v < 2 || v > 5) return make_error(Errc::unsupported, "protocol {}", v); return {}; }
      case 0x95: { WB_TRY(v, r_.u64("frame length")); (void)v; return {}; }  // FRAME: a hint only
      case '.':  // STOP
        { WB_TRY(o, pop()); root_ = o; done_ = true; return {}; }
      case '(':
        if (marks_.size() >= lim_.max_stack) return make_error(Errc::limit, "too many MARKs");
        marks_.push_back(stack_.size());
        return {};
      case '0': { WB_TRY(o, pop()); (void)o; return {}; }  // POP
      case '1': { WB_TRY(items, pop_mark()); (void)items; return {}; }  // POP_MARK
      case '2': {  // DUP
        if (stack_.size() <= mark_floor()) return make_error(Errc::format, "DUP on an empty stack");
        return push(stack_.back());
      }
      case 'N': { WB_TRY(o, make(Kind::none)); return push(o); }
      case 0x88: case 0x89: { WB_TRY(o, make(Kind::boolean)); o->i = op == 0x88; return push(o); }
      case 'K': { WB_TRY(v, r_.u8("BININT1")); return push_int(v); }
      case 'M': { WB_TRY(v, r_.u16("BININT2")); return push_int(v); }
      case 'J': { WB_TRY(v, r_.i32("BININT")); return push_int(v); }
      case 0x8a: {  // LONG1: little-endian two's complement, up to 8 bytes here
        WB_TRY(n, r_.u8("LONG1 length"));
        if (n > 8) return make_error(Errc::unsupported, "integer of {} bytes", n);
        WB_TRY(b, r_.bytes(n, "LONG1"));
        uint64_t u = 0;
        for (size_t k = 0; k < n; ++k) u |= static_cast<uint64_t>(b[k]) << (8 * k);
        if (n > 0 && n < 8 && (b[n - 1] & 0x80)) u |= ~uint64_t{0} << (8 * n);
        return push_int(static_cast<int64_t>(u));
      }
      case 'G': {  // BINFLOAT: big-endian double
        WB_TRY(b, r_.bytes(8, "BINFLOAT"));
        uint64_t u = 0;
        for (int k = 0; k < 8; ++k) u = (u << 8) | b[static_cast<size_t>(k)];
        WB_TRY(o, make(Kind::floating));
        std::memcpy(&o->f, &u, 8);
        return push(o);
      }
      case 'X': { WB_TRY(n, r_.u32("BINUNICODE length")); return push_str(Kind::string, n); }
      case 0x8c: { WB_TRY(n, r_.u8("SHORT_BINUNICODE length")); return push_str(Kind::string, n); }
      case 0x8d: { WB_TRY(n, r_.u64("BINUNICODE8 length")); return push_str(Kind::string, n); }
      case 'B': { WB_TRY(n, r_.u32("BINBYTES length")); return push_str(Kind::bytes, n); }
      case 'C': { WB_TRY(n, r_.u8("SHORT_BINBYTES length")); return push_str(Kind::bytes, n); }
      case 0x8e: { WB_TRY(n, r_.u64("BINBYTES8 length")); return push_str(Kind::bytes, n); }
      case ')': return push_tuple({});
      case 't': { WB_TRY(items, pop_mark()); return push_tuple(std::move(items)); }
      case 0x85: case 0x86: case 0x87: {
        const size_t n = static_cast<size_t>(op - 0x84);
        if (stack_.size() < mark_floor() + n) return make_error(Errc::format, "TUPLE{} on a short stack", n);
        std::vector<const Object*> items(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
        stack_.resize(stack_.size() - n);
        return push_tuple(std::move(items));
      }
      case ']': { WB_TRY(o, make(Kind::list)); return push(o); }
      case 'l': {
        WB_TRY(items, pop_mark());
        WB_TRY(o, make(Kind::list));
        o->items = std::move(items);
        return push(o);
      }
      case '}': { WB_TRY(o, make(Kind::dict)); return push(o); }
      case 'a': {
        WB_TRY(v, pop());
        WB_TRY(l, pop());
        if (l->kind != Kind::list) return make_error(Errc::format, "APPEND to a {}", kind_name(l->kind));
        mut(l)->items.push_back(v);
        return push(l);
      }
      case 'e': {
        WB_TRY(items, pop_mark());
        WB_TRY(l, pop());
        if (l->kind != Kind::list) return make_error(Errc::format, "APPENDS to a {}", kind_name(l->kind));
        for (const Object* v : items) mut(l)->items.push_back(v);
        return push(l);
      }
      case 's': {
        WB_TRY(v, pop());
        WB_TRY(k, pop());
        WB_TRY(d, pop());
        WB_CHECK(set_item(d, k, v));
        return push(d);
      }
      case 'u': {
        WB_TRY(items, pop_mark());
        if (items.size() % 2) return make_error(Errc::format, "SETITEMS with an odd number of items");
        WB_TRY(d, pop());
        for (size_t k = 0; k < items.size(); k += 2) WB_CHECK(set_item(d, items[k], items[k + 1]));
        return push(d);
      }
      case 'q': { WB_TRY(i, r_.u8("BINPUT")); return memo_put(i); }
      case 'r': { WB_TRY(i, r_.u32("LONG_BINPUT")); return memo_put(i); }
      case 0x94: return memo_put(static_cast<uint32_t>(memo_.size()));  // MEMOIZE
      case 'h': { WB_TRY(i, r_.u8("BINGET")); return memo_get(i); }
      case 'j': { WB_TRY(i, r_.u32("LONG_BINGET")); return memo_get(i); }
      case 'c': {  // GLOBAL "module\nname\n"
        WB_TRY(module, line());
        WB_TRY(name, line());
        return global(std::move(module), std::move(name));
      }
      case 0x93: {  // STACK_GLOBAL
        WB_TRY(name, pop());
        WB_TRY(module, pop());
        if (module->kind != Kind::string || name->kind != Kind::string)
          return make_error(Errc::format, "STACK_GLOBAL needs two strings");
        return global(module->s, name->s);
      }
      case 'Q': { WB_TRY(pid, pop()); return persistent_load(pid); }
      case 'R': {
        WB_TRY(args, pop());
        WB_TRY(fn, pop());
        return reduce(fn, args);
      }
      case 'b': {  // BUILD: only the `_metadata` state torch attaches to state dicts
        WB_TRY(state, pop());
        WB_TRY(obj, pop());
        (void)state;
        if (obj->kind != Kind::dict && obj->kind != Kind::tensor)
          return make_error(Errc::security, "BUILD on a {} is not allowed", kind_name(obj->kind));
        return push(obj);
      }
      default:
        return make_error(Errc::unsupported, "opcode not allowed in a state dict");
    }
  }

  Result<std::string> line() {
    std::string s;
    while (true) {
      WB_TRY(c, r_.u8("GLOBAL name"));
      if (c == '\n') return s;
      if (s.size() >= 256) return make_error(Errc::format, "GLOBAL name longer than 256 bytes");
      s += static_cast<char>(c);
    }
  }

  fmt_util::ByteReader r_;
  Limits lim_;
  std::vector<std::unique_ptr<Object>> arena_;
  std::vector<const Object*> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint32_t, const Object*> memo_;
  const Object* root_ = nullptr;
  bool done_ = false;
};

}  // namespace

Result<Pickle> load(std::span<const uint8_t> bytes, const Limits& limits) {
  Machine m(bytes, limits);
  return m.run();
}

}  // namespace wb::pickle
