#include "core/model/pth_file.hpp"

#include <zlib.h>

#include <map>

#include "core/model/format_util.hpp"
#include "core/model/pickle_reader.hpp"
#include "core/util/mapped_file.hpp"

namespace wb {

namespace {

using fmt_util::ByteReader;

struct ZipEntry {
  std::string name;
  uint16_t method = 0;
  uint16_t flags = 0;
  uint32_t crc = 0;
  uint64_t csize = 0, usize = 0, local_offset = 0;
  uint64_t data_offset = 0;  // resolved from the local header
};

constexpr uint64_t kMaxEntries = 1u << 20;

Result<std::map<std::string, ZipEntry>> read_zip_directory(std::span<const uint8_t> b) {
  if (b.size() < 22) return make_error(Errc::format, "zip archive truncated ({} bytes)", b.size());
  // End of central directory: the last "PK\5\6" within the final 64 KiB + 22 bytes.
  size_t eocd = SIZE_MAX;
  const size_t lowest = b.size() > 65557 ? b.size() - 65557 : 0;
  for (size_t p = b.size() - 22 + 1; p-- > lowest;)
    if (b[p] == 'P' && b[p + 1] == 'K' && b[p + 2] == 5 && b[p + 3] == 6) {
      eocd = p;
      break;
    }
  if (eocd == SIZE_MAX) return make_error(Errc::format, "zip end-of-central-directory record not found (truncated file?)");
  ByteReader r(b);
  r.seek(eocd + 4);
  WB_TRY(disk, r.u16("EOCD disk"));
  WB_TRY(cd_disk, r.u16("EOCD cd disk"));
  WB_TRY(n_disk, r.u16("EOCD entries on disk"));
  WB_TRY(n16, r.u16("EOCD entries"));
  WB_TRY(cd_size32, r.u32("EOCD cd size"));
  WB_TRY(cd_off32, r.u32("EOCD cd offset"));
  (void)n_disk;
  if (disk != 0 || cd_disk != 0) return make_error(Errc::unsupported, "multi-disk zip archives");
  uint64_t n = n16, cd_size = cd_size32, cd_off = cd_off32;
  if (n16 == 0xffff || cd_size32 == 0xffffffffu || cd_off32 == 0xffffffffu) {
    if (eocd < 20) return make_error(Errc::format, "zip64 locator missing");
    r.seek(eocd - 20);
    WB_TRY(sig, r.u32("zip64 locator"));
    if (sig != 0x07064b50u) return make_error(Errc::format, "zip64 locator missing");
    WB_TRY(d, r.u32("zip64 locator disk"));
    WB_TRY(off64, r.u64("zip64 EOCD offset"));
    (void)d;
    if (off64 > b.size()) return make_error(Errc::format, "zip64 EOCD offset {} beyond the file", off64);
    r.seek(static_cast<size_t>(off64));
    WB_TRY(sig64, r.u32("zip64 EOCD"));
    if (sig64 != 0x06064b50u) return make_error(Errc::format, "zip64 end-of-central-directory record is corrupt");
    WB_TRY(skip, r.bytes(8 + 2 + 2 + 4 + 4 + 8, "zip64 EOCD"));
    (void)skip;
    WB_TRY(n64, r.u64("zip64 entries"));
    WB_TRY(sz64, r.u64("zip64 cd size"));
    WB_TRY(o64, r.u64("zip64 cd offset"));
    n = n64;
    cd_size = sz64;
    cd_off = o64;
  }
  if (n > kMaxEntries) return make_error(Errc::limit, "zip claims {} entries", n);
  if (cd_off > b.size() || cd_size > b.size() - cd_off)
    return make_error(Errc::format, "zip central directory ({} bytes at {}) lies outside the file", cd_size, cd_off);
  if (n > cd_size / 46) return make_error(Errc::format, "zip claims {} entries in a {}-byte directory", n, cd_size);
  std::map<std::string, ZipEntry> out;
  r.seek(static_cast<size_t>(cd_off));
  for (uint64_t k = 0; k < n; ++k) {
    WB_TRY(sig, r.u32("central entry"));
    if (sig != 0x02014b50u) return make_error(Errc::format, "zip central directory entry {} is corrupt", k);
    ZipEntry e;
    WB_TRY(versions, r.u32("versions"));
    (void)versions;
    WB_TRY(flags, r.u16("flags"));
    WB_TRY(method, r.u16("method"));
    WB_TRY(tm, r.u32("time"));
    (void)tm;
    WB_TRY(crc, r.u32("crc"));
    WB_TRY(cs, r.u32("compressed size"));
    WB_TRY(us, r.u32("size"));
    WB_TRY(nl, r.u16("name length"));
    WB_TRY(xl, r.u16("extra length"));
    WB_TRY(cl, r.u16("comment length"));
    WB_TRY(rest, r.bytes(8, "entry attributes"));
    (void)rest;
    WB_TRY(lo, r.u32("local offset"));
    WB_TRY(name, r.bytes(nl, "entry name"));
    WB_TRY(extra, r.bytes(xl, "entry extra"));
    WB_TRY(comment, r.bytes(cl, "entry comment"));
    (void)comment;
    e.name.assign(reinterpret_cast<const char*>(name.data()), name.size());
    e.flags = flags;
    e.method = method;
    e.crc = crc;
    e.csize = cs;
    e.usize = us;
    e.local_offset = lo;
    // zip64 extra field: the 64-bit values of whichever fields were saturated.
    ByteReader x(extra);
    while (x.remaining() >= 4) {
      WB_TRY(id, x.u16("extra id"));
      WB_TRY(len, x.u16("extra length"));
      WB_TRY(body, x.bytes(len, "extra field"));
      if (id != 0x0001) continue;
      ByteReader z(body);
      if (us == 0xffffffffu) {
        WB_TRY(v, z.u64("zip64 size"));
        e.usize = v;
      }
      if (cs == 0xffffffffu) {
        WB_TRY(v, z.u64("zip64 compressed size"));
        e.csize = v;
      }
      if (lo == 0xffffffffu) {
        WB_TRY(v, z.u64("zip64 offset"));
        e.local_offset = v;
      }
    }
    if (flags & 1) return make_error(Errc::unsupported, "zip entry '{}' is encrypted", fmt_util::valid_utf8(e.name) ? e.name : "?");
    // Local header: its own name/extra lengths decide where the data starts.
    if (e.local_offset > b.size() || b.size() - e.local_offset < 30)
      return make_error(Errc::format, "zip entry '{}' local header lies outside the file", e.name);
    ByteReader l(b);
    l.seek(static_cast<size_t>(e.local_offset));
    WB_TRY(lsig, l.u32("local header"));
    if (lsig != 0x04034b50u) return make_error(Errc::format, "zip entry '{}' local header is corrupt", e.name);
    l.seek(static_cast<size_t>(e.local_offset) + 26);
    WB_TRY(lnl, l.u16("local name length"));
    WB_TRY(lxl, l.u16("local extra length"));
    e.data_offset = e.local_offset + 30 + lnl + lxl;
    if (e.data_offset > b.size() || e.csize > b.size() - e.data_offset)
      return make_error(Errc::format, "zip entry '{}' ({} bytes) runs past the end of the file (truncated?)", e.name,
                        e.csize);
    if (e.method == 0 && e.csize != e.usize)
      return make_error(Errc::format, "stored zip entry '{}' has differing sizes", e.name);
    out[e.name] = e;
  }
  return out;
}

// The bytes of one entry: in place when stored, inflated into `owned` when deflated.
Result<std::span<const uint8_t>> entry_bytes(std::span<const uint8_t> b, const ZipEntry& e,
                                             std::shared_ptr<std::vector<uint8_t>>& owned) {
  const auto raw = b.subspan(static_cast<size_t>(e.data_offset), static_cast<size_t>(e.csize));
  if (e.method == 0) return raw;
  if (e.method != 8)
    return make_error(Errc::unsupported, "zip entry '{}' uses compression method {} (stored or deflate only)", e.name,
                      e.method);
  // Deflate expands at most ~1032:1; a bigger claim is a lie, not a tensor.
  if (e.usize > e.csize * 1032 + 1024)
    return make_error(Errc::format, "zip entry '{}' claims {} bytes from {} compressed", e.name, e.usize, e.csize);
  owned = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(e.usize));
  z_stream zs{};
  if (inflateInit2(&zs, -15) != Z_OK) return make_error(Errc::internal, "zlib init failed");
  uint64_t done_in = 0, done_out = 0;
  int rc = Z_OK;
  while (rc == Z_OK) {
    const uint64_t in_chunk = std::min<uint64_t>(e.csize - done_in, 1u << 30);
    const uint64_t out_chunk = std::min<uint64_t>(e.usize - done_out, 1u << 30);
    zs.next_in = const_cast<Bytef*>(raw.data() + done_in);
    zs.avail_in = static_cast<uInt>(in_chunk);
    zs.next_out = owned->data() + done_out;
    zs.avail_out = static_cast<uInt>(out_chunk);
    rc = inflate(&zs, Z_NO_FLUSH);
    done_in += in_chunk - zs.avail_in;
    done_out += out_chunk - zs.avail_out;
    if (rc == Z_OK && in_chunk == 0 && out_chunk == 0) break;
    if (rc == Z_BUF_ERROR && done_out == e.usize) break;
  }
  inflateEnd(&zs);
  if ((rc != Z_STREAM_END && rc != Z_OK && rc != Z_BUF_ERROR) || done_out != e.usize)
    return make_error(Errc::format, "zip entry '{}' does not inflate to its {} bytes", e.name, e.usize);
  if (crc32(0L, owned->data(), static_cast<uInt>(std::min<uint64_t>(owned->size(), 0xffffffffu))) != e.crc &&
      owned->size() <= 0xffffffffu)
    return make_error(Errc::format, "zip entry '{}' fails its CRC check", e.name);
  return std::span<const uint8_t>(*owned);
}

Status check_contiguous(const pickle::Object& t, const std::string& name) {
  int64_t expect = 1;
  for (size_t d = t.shape.size(); d-- > 0;) {
    if (t.shape[d] != 1 && t.stride[d] != expect)
      return make_error(Errc::unsupported, "tensor '{}' is not contiguous (stride {} in dim {}, expected {})", name,
                        t.stride[d], d, expect);
    expect *= t.shape[d];
  }
  return {};
}

Result<TensorFile> parse_impl(std::span<const uint8_t> b, const std::string& path) {
  if (!looks_like_pth(b)) {
    if (b.size() >= 2 && b[0] == 0x80) return make_error(Errc::unsupported, "legacy (pre-1.6, non-zip) torch.save format");
    return make_error(Errc::format, "not a zip archive (bad magic)");
  }
  WB_TRY(entries, read_zip_directory(b));
  const ZipEntry* pkl = nullptr;
  for (const auto& [name, e] : entries) {
    const auto slash = name.find('/');
    if (slash != std::string::npos && name.compare(slash, std::string::npos, "/data.pkl") == 0) {
      if (pkl) return make_error(Errc::format, "archive holds more than one data.pkl");
      pkl = &e;
    }
  }
  if (!pkl) return make_error(Errc::format, "archive has no <archive>/data.pkl (not a torch.save file)");
  const std::string prefix = pkl->name.substr(0, pkl->name.size() - std::string("data.pkl").size());
  TensorFile tf;
  tf.path = path;
  tf.format = "pth";
  tf.convention = ValueConvention::official;
  if (auto it = entries.find(prefix + "byteorder"); it != entries.end()) {
    std::shared_ptr<std::vector<uint8_t>> own;
    WB_TRY(bo, entry_bytes(b, it->second, own));
    std::string s(reinterpret_cast<const char*>(bo.data()), bo.size());
    if (s != "little") return make_error(Errc::unsupported, "byteorder '{}' (only little-endian files)", s.substr(0, 16));
  }
  std::shared_ptr<std::vector<uint8_t>> pkl_owned;
  WB_TRY(pkl_bytes, entry_bytes(b, *pkl, pkl_owned));
  auto pk = pickle::load(pkl_bytes);
  if (!pk) return make_error(pk.error().code, "{}: {}", pkl->name, pk.error().message);
  const pickle::Object* root = pk->root;
  if (root->kind != pickle::Kind::dict)
    return make_error(Errc::format, "the pickle holds a {}, not a state dict", pickle::kind_name(root->kind));
  // Storages used by several tensors are resolved (and inflated) once.
  std::map<std::string, std::span<const uint8_t>> storage_bytes;
  for (const auto& [k, v] : root->entries) {
    if (k->kind != pickle::Kind::string)
      return make_error(Errc::format, "state dict key is a {}, not a string", pickle::kind_name(k->kind));
    const std::string& name = k->s;
    if (v->kind != pickle::Kind::tensor)
      return make_error(Errc::unsupported, "state dict entry '{}' is a {}, not a tensor", name, pickle::kind_name(v->kind));
    const pickle::Object& st = *v->storage;
    if (!st.dtype_known)
      return make_error(Errc::unsupported, "tensor '{}' is stored as {} (supported: float32, float16, bfloat16)", name,
                        st.storage_type);
    const uint64_t esize = static_cast<uint64_t>(dtype_block_bytes(st.dtype));
    auto sb = storage_bytes.find(st.s);
    if (sb == storage_bytes.end()) {
      auto it = entries.find(prefix + "data/" + st.s);
      if (it == entries.end())
        return make_error(Errc::format, "tensor '{}' refers to storage '{}', which the archive lacks", name, st.s);
      std::shared_ptr<std::vector<uint8_t>> own;
      WB_TRY(bytes, entry_bytes(b, it->second, own));
      if (own) tf.owners.push_back(own);
      if (st.numel > bytes.size() / esize)
        return make_error(Errc::format, "storage '{}' claims {} elements but holds {} bytes", st.s, st.numel,
                          bytes.size());
      sb = storage_bytes.emplace(st.s, bytes).first;
    }
    TensorView t;
    t.name = name;
    t.dtype = st.dtype;
    t.shape = v->shape;
    WB_TRY(numel, fmt_util::checked_numel(t.shape, name));
    WB_CHECK(check_contiguous(*v, name));
    const uint64_t off = static_cast<uint64_t>(v->offset);
    if (off > st.numel || numel > st.numel - off)
      return make_error(Errc::format, "tensor '{}' ({} elements at offset {}) exceeds its storage of {} elements", name,
                        numel, off, st.numel);
    t.nbytes = numel * esize;
    const uint8_t* p = sb->second.data() + off * esize;
    if (reinterpret_cast<uintptr_t>(p) % esize != 0) {
      // Misaligned storage (not what torch writes): copy so element reads stay aligned.
      auto copy = std::make_shared<std::vector<uint8_t>>(p, p + t.nbytes);
      p = copy->data();
      tf.owners.push_back(copy);
    }
    t.data = p;
    tf.tensors.push_back(std::move(t));
  }
  return tf;
}

}  // namespace

bool looks_like_pth(std::span<const uint8_t> head) {
  return head.size() >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
}

Result<TensorFile> parse_pth(std::span<const uint8_t> bytes, const std::string& path, std::shared_ptr<const void> owner) {
  auto r = parse_impl(bytes, path);
  if (!r) return make_error(r.error().code, "{}: pth: {}", path, r.error().message);
  if (owner) r->owners.push_back(std::move(owner));
  return r;
}

Result<TensorFile> read_pth_file(const std::string& path) {
  WB_TRY(map, MappedFile::open(path));
  WB_TRY(tf, parse_pth(map->bytes(), path, map));
  tf.file_map = map;
  return tf;
}

}  // namespace wb
