#include "deltacrit/simulate/law_io.hpp"

#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "deltacrit/core/status.hpp"

namespace deltacrit::simulate {

namespace {

constexpr std::array<char, 8> kMagic = {'D', 'C', 'R', 'I', 'T', 'L', 'A', 'W'};
constexpr std::uint32_t kVersion = 1;
constexpr std::uint32_t kHeaderBytes = 192;
constexpr std::uint32_t kFlagHasD = 1u;

// Explicit little-endian encoding, independent of the host byte order.
void put_u32(unsigned char* p, std::uint32_t v) {
  for (int b = 0; b < 4; ++b) p[b] = static_cast<unsigned char>(v >> (8 * b));
}
void put_u64(unsigned char* p, std::uint64_t v) {
  for (int b = 0; b < 8; ++b) p[b] = static_cast<unsigned char>(v >> (8 * b));
}
void put_f64(unsigned char* p, double v) { put_u64(p, std::bit_cast<std::uint64_t>(v)); }
std::uint32_t get_u32(const unsigned char* p) {
  std::uint32_t v = 0;
  for (int b = 0; b < 4; ++b) v |= static_cast<std::uint32_t>(p[b]) << (8 * b);
  return v;
}
std::uint64_t get_u64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int b = 0; b < 8; ++b) v |= static_cast<std::uint64_t>(p[b]) << (8 * b);
  return v;
}
double get_f64(const unsigned char* p) { return std::bit_cast<double>(get_u64(p)); }

std::uint64_t doubles_per_sample(int m, int k, bool has_D) {
  return 1u + static_cast<std::uint64_t>(m) + static_cast<std::uint64_t>(k) +
         (has_D ? static_cast<std::uint64_t>(m) * m : 0u);
}

void check_finite(const std::vector<double>& v, const char* name, const std::string& parameter,
                  const std::string& where) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) {
      throw InputError(parameter, parameter + ": " + where + "field " + name + "[" + std::to_string(i) +
                                      "] is not finite; a law must hold finite samples");
    }
  }
}

void validate_impl(const EmpiricalLaw& law, const std::string& parameter, const std::string& where) {
  const std::string pre = parameter + ": " + where;
  if (law.n < 1) throw InputError(parameter, pre + "n = 0 samples (need n >= 1)");
  if (law.m < 1 || law.m > kLawMaxWidth) {
    throw InputError(parameter, pre + "width m = " + std::to_string(law.m) + " is out of range (accepted: 1..8)");
  }
  if (law.k < 1 || law.k > kLawMaxLatent) {
    throw InputError(parameter, pre + "latent dimension k = " + std::to_string(law.k) + " is out of range (accepted: 1..3)");
  }
  if (law.hard.size() > static_cast<std::size_t>(law.k)) {
    throw InputError(parameter, pre + "more hard directions than latent directions");
  }
  for (std::size_t i = 0; i < law.hard.size(); ++i) {
    if (law.hard[i] < 1 || law.hard[i] > law.k) {
      throw InputError(parameter, pre + "hard direction index " + std::to_string(law.hard[i]) +
                                      " is out of range (accepted: 1.." + std::to_string(law.k) + ")");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (law.hard[j] == law.hard[i]) throw InputError(parameter, pre + "hard direction index repeated");
    }
  }
  const auto n = law.n;
  const auto m = static_cast<std::uint64_t>(law.m);
  const auto k = static_cast<std::uint64_t>(law.k);
  if (law.a.size() != m) throw InputError(parameter, pre + "second layer a has " + std::to_string(law.a.size()) + " entries, expected m = " + std::to_string(m));
  if (law.y.size() != n) throw InputError(parameter, pre + "y has " + std::to_string(law.y.size()) + " entries, expected n = " + std::to_string(n));
  if (law.u.size() != n * m) throw InputError(parameter, pre + "u has " + std::to_string(law.u.size()) + " entries, expected n*m = " + std::to_string(n * m));
  if (law.z.size() != n * k) throw InputError(parameter, pre + "z has " + std::to_string(law.z.size()) + " entries, expected n*k = " + std::to_string(n * k));
  if (!law.D.empty() && law.D.size() != n * m * m) {
    throw InputError(parameter, pre + "D has " + std::to_string(law.D.size()) + " entries, expected n*m*m = " + std::to_string(n * m * m));
  }
  if (!std::isfinite(law.delta) || !std::isfinite(law.ridge) || law.ridge < 0) {
    throw InputError(parameter, pre + "delta and ridge must be finite, ridge >= 0");
  }
  check_finite(law.a, "a", parameter, where);
  check_finite(law.y, "y", parameter, where);
  check_finite(law.u, "u", parameter, where);
  check_finite(law.z, "z", parameter, where);
  check_finite(law.D, "D", parameter, where);
}

}  // namespace

void EmpiricalLaw::validate(const std::string& parameter) const { validate_impl(*this, parameter, ""); }

void write_law(const EmpiricalLaw& law, const std::string& path, const std::string& parameter) {
  validate_impl(law, parameter, "cannot write law: ");
  std::array<unsigned char, kHeaderBytes> header{};
  std::memcpy(header.data(), kMagic.data(), kMagic.size());
  put_u32(header.data() + 8, kVersion);
  put_u32(header.data() + 12, kHeaderBytes);
  put_u64(header.data() + 16, law.n);
  put_u32(header.data() + 24, static_cast<std::uint32_t>(law.m));
  put_u32(header.data() + 28, static_cast<std::uint32_t>(law.k));
  put_u32(header.data() + 32, law.has_D() ? kFlagHasD : 0u);
  put_u32(header.data() + 36, static_cast<std::uint32_t>(law.hard.size()));
  for (std::size_t i = 0; i < law.hard.size(); ++i) {
    put_u32(header.data() + 40 + 4 * i, static_cast<std::uint32_t>(law.hard[i]));
  }
  put_f64(header.data() + 56, law.delta);
  put_u64(header.data() + 64, law.d);
  put_f64(header.data() + 72, law.ridge);
  for (int j = 0; j < law.m; ++j) put_f64(header.data() + 80 + 8 * j, law.a[j]);

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw InputError(parameter, parameter + ": cannot open '" + path + "' for writing");
  out.write(reinterpret_cast<const char*>(header.data()), header.size());
  std::vector<unsigned char> buffer;
  auto write_doubles = [&](const std::vector<double>& v) {
    buffer.resize(8 * v.size());
    for (std::size_t i = 0; i < v.size(); ++i) put_f64(buffer.data() + 8 * i, v[i]);
    out.write(reinterpret_cast<const char*>(buffer.data()), static_cast<std::streamsize>(buffer.size()));
  };
  write_doubles(law.y);
  write_doubles(law.u);
  write_doubles(law.z);
  if (law.has_D()) write_doubles(law.D);
  out.flush();
  if (!out) throw InputError(parameter, parameter + ": writing '" + path + "' failed (disk full or I/O error)");
}

EmpiricalLaw read_law(const std::string& path, const std::string& parameter) {
  const std::string where = "law file '" + path + "': ";
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(parameter, parameter + ": cannot open law file '" + path + "' (missing or unreadable)");
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::uint64_t>(in.tellg());
  in.seekg(0, std::ios::beg);
  if (size < 16) {
    throw InputError(parameter, parameter + ": " + where + "only " + std::to_string(size) +
                                    " bytes; not a deltacrit law file (expected the header 'DCRITLAW', " +
                                    std::to_string(kHeaderBytes) + " bytes)");
  }
  std::array<unsigned char, kHeaderBytes> header{};
  in.read(reinterpret_cast<char*>(header.data()), static_cast<std::streamsize>(std::min<std::uint64_t>(size, kHeaderBytes)));
  if (std::memcmp(header.data(), kMagic.data(), kMagic.size()) != 0) {
    throw InputError(parameter, parameter + ": " + where + "wrong format: the file does not start with the magic bytes 'DCRITLAW' (write law files with `deltacrit simulate hessian --dump-law`)");
  }
  const std::uint32_t version = get_u32(header.data() + 8);
  if (version != kVersion) {
    throw InputError(parameter, parameter + ": " + where + "unsupported version " + std::to_string(version) +
                                    " (this build reads version " + std::to_string(kVersion) + ")");
  }
  const std::uint32_t header_bytes = get_u32(header.data() + 12);
  if (header_bytes != kHeaderBytes || size < kHeaderBytes) {
    throw InputError(parameter, parameter + ": " + where + "truncated or corrupt header (header size " +
                                    std::to_string(header_bytes) + ", file size " + std::to_string(size) + ")");
  }
  EmpiricalLaw law;
  law.n = get_u64(header.data() + 16);
  const std::uint32_t m = get_u32(header.data() + 24);
  const std::uint32_t k = get_u32(header.data() + 28);
  const std::uint32_t flags = get_u32(header.data() + 32);
  const std::uint32_t k_h = get_u32(header.data() + 36);
  if (m < 1 || m > kLawMaxWidth || k < 1 || k > kLawMaxLatent || k_h > k || (flags & ~kFlagHasD) != 0) {
    std::ostringstream msg;
    msg << parameter << ": " << where << "header fields out of range (m = " << m << ", k = " << k
        << ", k_h = " << k_h << ", flags = " << flags << "; accepted m 1..8, k 1..3, k_h <= k, flags 0 or 1)";
    throw InputError(parameter, msg.str());
  }
  law.m = static_cast<int>(m);
  law.k = static_cast<int>(k);
  for (std::uint32_t i = 0; i < k_h; ++i) law.hard.push_back(static_cast<int>(get_u32(header.data() + 40 + 4 * i)));
  law.delta = get_f64(header.data() + 56);
  law.d = get_u64(header.data() + 64);
  law.ridge = get_f64(header.data() + 72);
  law.a.resize(m);
  for (std::uint32_t j = 0; j < m; ++j) law.a[j] = get_f64(header.data() + 80 + 8 * j);

  const bool has_D = (flags & kFlagHasD) != 0;
  const std::uint64_t per_sample = doubles_per_sample(law.m, law.k, has_D);
  if (law.n < 1 || law.n > (size / 8) / per_sample + 1) {
    throw InputError(parameter, parameter + ": " + where + "truncated: header announces n = " + std::to_string(law.n) +
                                    " samples but the file has " + std::to_string(size) + " bytes");
  }
  const std::uint64_t expected = kHeaderBytes + 8 * law.n * per_sample;
  if (size != expected) {
    throw InputError(parameter, parameter + ": " + where + (size < expected ? "truncated" : "has trailing data") +
                                    ": expected " + std::to_string(expected) + " bytes for n = " +
                                    std::to_string(law.n) + ", m = " + std::to_string(m) + ", k = " +
                                    std::to_string(k) + (has_D ? " with D" : "") + ", found " + std::to_string(size));
  }
  std::vector<unsigned char> buffer;
  auto read_doubles = [&](std::vector<double>& v, std::uint64_t count) {
    buffer.resize(8 * count);
    in.read(reinterpret_cast<char*>(buffer.data()), static_cast<std::streamsize>(buffer.size()));
    if (!in) throw InputError(parameter, parameter + ": " + where + "read error (truncated while reading)");
    v.resize(count);
    for (std::uint64_t i = 0; i < count; ++i) v[i] = get_f64(buffer.data() + 8 * i);
  };
  in.seekg(kHeaderBytes, std::ios::beg);
  read_doubles(law.y, law.n);
  read_doubles(law.u, law.n * m);
  read_doubles(law.z, law.n * k);
  if (has_D) read_doubles(law.D, law.n * m * m);
  validate_impl(law, parameter, where);
  return law;
}

}  // namespace deltacrit::simulate
