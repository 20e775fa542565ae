#include "fleet/model_signer.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cassert>
#include <cerrno>
#include <cstdio>
#include <system_error>

#include "core/ids.h"

namespace vigil::fleet {
namespace fs = std::filesystem;

namespace {

constexpr int kBase64 = sodium_base64_VARIANT_ORIGINAL;  // standard alphabet, '=' padding
constexpr size_t kSeedBase64Chars = sodium_base64_ENCODED_LEN(crypto_sign_SEEDBYTES, kBase64) - 1;
// A key file is 45 bytes; reading a little more is enough to see that a larger one is wrong,
// without reading all of a huge file into memory.
constexpr size_t kKeyFileReadLimit = 256;

using Seed = std::array<unsigned char, crypto_sign_SEEDBYTES>;

// Zeroes a buffer that held secret bytes on every way out of a scope.
template <typename Buffer>
class Wipe {
 public:
  explicit Wipe(Buffer& buffer) : buffer_(buffer) {}
  ~Wipe() { sodium_memzero(buffer_.data(), buffer_.size()); }
  Wipe(const Wipe&) = delete;
  Wipe& operator=(const Wipe&) = delete;

 private:
  Buffer& buffer_;
};

// Closes a file descriptor on every way out of a scope.
struct FileDescriptor {
  int fd;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};

std::string to_base64(const unsigned char* bytes, size_t size) {
  std::string out(sodium_base64_ENCODED_LEN(size, kBase64), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes, size, kBase64);
  out.pop_back();  // the NUL libsodium writes
  return out;
}

// Decodes base64 of exactly `size` bytes into `out`: false for any other length, a character
// outside the alphabet (whitespace included), or missing or misplaced padding.
bool from_base64(std::string_view text, unsigned char* out, size_t size) {
  size_t decoded = 0;
  const char* end = nullptr;
  int rc = sodium_base642bin(out, size, text.data(), text.size(), nullptr, &decoded, &end, kBase64);
  return rc == 0 && end == text.data() + text.size() && decoded == size;
}

std::string_view trim_whitespace(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  size_t first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

bool parse_seed(std::string_view text, Seed& seed) {
  return from_base64(trim_whitespace(text), seed.data(), seed.size());
}

// `err`: the errno of the failed call.
Status io_error(std::string_view what, const fs::path& path, int err) {
  return unavailable(std::string(what) + " " + path.string() + ": " +
                     std::error_code(err, std::generic_category()).message());
}

// Another user who can read the file can sign models; one who can write it can swap the key.
Status check_private_file(int fd, const fs::path& file) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return io_error("cannot stat the signing key", file, errno);
  if (!S_ISREG(st.st_mode)) {
    return failed_precondition("the signing key " + file.string() + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return failed_precondition("the signing key " + file.string() + " has mode " + mode +
                               ": group and others must have no access (chmod 600 it)");
  }
  return {};
}

// Reads as much as fits in `buffer` (or up to end of file); the count, or -1 on an error.
ssize_t read_up_to(int fd, char* buffer, size_t size) {
  size_t got = 0;
  while (got < size) {
    ssize_t n = ::read(fd, buffer + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(got);
}

// kNotFound when there is no file (the caller then creates one). O_NONBLOCK: a FIFO in the
// key's place must not hang start-up (check_private_file then refuses it).
Status read_key_file(const fs::path& file, Seed& seed) {
  FileDescriptor fd{::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)};
  if (fd.fd < 0) {
    return errno == ENOENT ? not_found(file.string())
                           : io_error("cannot open the signing key", file, errno);
  }
  VIGIL_RETURN_IF_ERROR(check_private_file(fd.fd, file));
  std::array<char, kKeyFileReadLimit> text{};
  Wipe wipe{text};
  ssize_t n = read_up_to(fd.fd, text.data(), text.size());
  if (n < 0) return io_error("cannot read the signing key", file, errno);
  if (!parse_seed(std::string_view(text.data(), static_cast<size_t>(n)), seed)) {
    return invalid_argument("the signing key " + file.string() +
                            " is not one line with a 32-byte Ed25519 seed in base64");
  }
  return {};
}

// 0, or the errno of the write that failed.
int write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

// A new file with `data`, mode 0600 whatever the umask, on disk before this returns.
Status write_new_synced_file(const fs::path& path, std::string_view data) {
  FileDescriptor fd{::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
  if (fd.fd < 0) return io_error("cannot create", path, errno);
  int err = write_all(fd.fd, data);
  if (err == 0 && (::fchmod(fd.fd, 0600) != 0 || ::fsync(fd.fd) != 0)) err = errno;
  return err == 0 ? Status{} : io_error("cannot write", path, err);
}

// Makes a rename or link durable: the new directory entry is on disk after this.
Status sync_directory(const fs::path& dir) {
  FileDescriptor fd{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (fd.fd < 0 || ::fsync(fd.fd) != 0) return io_error("cannot sync the directory", dir, errno);
  return {};
}

// Writes a new random seed to `file`. link() rather than rename(): rename would replace a key
// file another process made since we looked, and the nodes would sign with different keys.
// kAlreadyExists when `file` exists.
Status create_key_file(const fs::path& file, Seed& seed) {
  fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return unavailable("cannot create " + dir.string() + ": " + ec.message());
  randombytes_buf(seed.data(), seed.size());
  std::array<char, kSeedBase64Chars + 1> line{};  // base64 and a newline (or libsodium's NUL)
  Wipe wipe{line};
  sodium_bin2base64(line.data(), line.size(), seed.data(), seed.size(), kBase64);
  line.back() = '\n';
  fs::path tmp = file;
  tmp += ".tmp-" + random_token(6);
  Status written = write_new_synced_file(tmp, std::string_view(line.data(), line.size()));
  int linked = written.ok() ? ::link(tmp.c_str(), file.c_str()) : -1;
  int link_errno = errno;
  ::unlink(tmp.c_str());
  if (!written.ok()) return written;
  if (linked != 0) {
    return link_errno == EEXIST ? already_exists(file.string())
                                : io_error("cannot create the signing key", file, link_errno);
  }
  return sync_directory(dir);
}

Status read_or_create_key_file(const fs::path& file, Seed& seed, bool& created) {
  Status read = read_key_file(file, seed);
  if (read.code() != ErrorCode::kNotFound) return read;
  Status made = create_key_file(file, seed);
  created = made.ok();
  // Another process created it between our read and our link: use its key.
  if (made.code() == ErrorCode::kAlreadyExists) return read_key_file(file, seed);
  return made;
}

Status init_sodium() {
  if (sodium_init() < 0) return internal_error("libsodium failed to initialise");
  return {};
}

}  // namespace

// The 64-byte libsodium secret key (seed, then public key) in sodium_malloc memory: guard
// pages around it, locked against swapping where the OS allows, zeroed by sodium_free.
struct ModelSigner::SecretKey {
  unsigned char* bytes = nullptr;
  ~SecretKey() {
    if (bytes != nullptr) sodium_free(bytes);
  }
};

ModelSigner::ModelSigner(std::unique_ptr<SecretKey> key) : key_(std::move(key)) {
  public_key_base64_ = to_base64(key_->bytes + crypto_sign_SEEDBYTES, crypto_sign_PUBLICKEYBYTES);
}

ModelSigner::ModelSigner(ModelSigner&&) noexcept = default;
ModelSigner& ModelSigner::operator=(ModelSigner&&) noexcept = default;
ModelSigner::~ModelSigner() = default;

Expected<ModelSigner> ModelSigner::from_seed(const unsigned char* seed) {
  auto key = std::make_unique<SecretKey>();
  key->bytes = static_cast<unsigned char*>(sodium_malloc(crypto_sign_SECRETKEYBYTES));
  if (key->bytes == nullptr) return internal_error("cannot allocate memory for the signing key");
  unsigned char public_key[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_seed_keypair(public_key, key->bytes, seed);
  // Read-only from here on: a stray write through a bad pointer faults instead of changing
  // the key.
  sodium_mprotect_readonly(key->bytes);
  return ModelSigner(std::move(key));
}

Expected<ModelSigner> ModelSigner::open(const fs::path& key_file) {
  VIGIL_RETURN_IF_ERROR(init_sodium());
  Seed seed{};
  Wipe wipe{seed};
  bool created = false;
  VIGIL_RETURN_IF_ERROR(read_or_create_key_file(key_file, seed, created));
  auto signer = from_seed(seed.data());
  if (signer.ok()) signer->created_ = created;
  return signer;
}

Expected<ModelSigner> ModelSigner::from_seed_base64(std::string_view seed_base64) {
  VIGIL_RETURN_IF_ERROR(init_sodium());
  Seed seed{};
  Wipe wipe{seed};
  if (!parse_seed(seed_base64, seed)) {
    return invalid_argument("the signing key is not a 32-byte Ed25519 seed in base64");
  }
  return from_seed(seed.data());
}

std::string ModelSigner::sign(std::string_view name, int64_t version,
                              std::string_view sha256_hex) const {
  assert(key_ != nullptr);  // not a moved-from signer
  std::string text = model_signing_text(name, version, sha256_hex);
  unsigned char signature[crypto_sign_BYTES];
  crypto_sign_detached(signature, nullptr, reinterpret_cast<const unsigned char*>(text.data()),
                       text.size(), key_->bytes);
  return to_base64(signature, sizeof signature);
}

std::string model_signing_text(std::string_view name, int64_t version,
                               std::string_view sha256_hex) {
  std::string v = std::to_string(version);
  std::string text;
  text.reserve(name.size() + v.size() + sha256_hex.size() + 2);
  text.append(name).append(":").append(v).append(":").append(sha256_hex);
  return text;
}

bool verify_model_signature(std::string_view public_key_b64, std::string_view name, int64_t version,
                            std::string_view sha256_hex, std::string_view signature_b64) {
  unsigned char public_key[crypto_sign_PUBLICKEYBYTES];
  unsigned char signature[crypto_sign_BYTES];
  if (sodium_init() < 0 || !from_base64(public_key_b64, public_key, sizeof public_key) ||
      !from_base64(signature_b64, signature, sizeof signature)) {
    return false;
  }
  std::string text = model_signing_text(name, version, sha256_hex);
  return crypto_sign_verify_detached(signature, reinterpret_cast<const unsigned char*>(text.data()),
                                     text.size(), public_key) == 0;
}

}  // namespace vigil::fleet
