// ModelSigner: the server's Ed25519 key (libsodium crypto_sign), which signs every model a
// device is told to run, and verify_model_signature, the agent's check of such a signature
// (../shared/docs/API.md, "Model signing"; docs/decisions/0010-model-signing.md).
//
// What is signed: the UTF-8 text "<name>:<version>:<sha256>" exactly, e.g.
// "diabetes:3:9cb7…5c48" (version in decimal, sha256 as given: the server passes the lowercase
// hex it stores). The text reads one way only: the version is digits and the sha256 hex, so
// neither holds a ':', and split from the right the text gives back a name that holds one.
//
// Base64 everywhere here (keys, signatures, the key file) is the standard alphabet (A-Z a-z 0-9
// + /) with '=' padding: a 32-byte key is 44 characters, a 64-byte signature 88.
//
// The key file holds one line: the 32-byte Ed25519 seed in that base64 (44 characters, then a
// newline), mode 0600. `(umask 077; openssl rand -base64 32 > key)` makes a valid one; the
// same text is what from_seed_base64 takes, so one key can be given to every node of a cluster.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace vigil::fleet {

// Owns one secret key, in memory that libsodium locks against swapping, keeps read-only, and
// zeroes when the signer is destroyed. Move-only. Never logs or returns the secret.
// Thread safety: sign() and the getters are const and safe to call from any number of threads
// at once; moving or destroying a signer must not race with them.
class ModelSigner {
 public:
  // Loads the key from `key_file`, or, when no file is there, creates a new random key and
  // writes it there: to a temp file in the same directory (mode 0600, fsynced), then linked to
  // `key_file`, which never replaces a file that appeared meanwhile (two servers starting at
  // once on one data dir both end up with the key that was linked first), then the directory
  // is fsynced. Missing parent directories are created. An existing file is never changed.
  // Errors:
  // - kFailedPrecondition: the file is not a regular file, or group or others have any
  //   permission on it (the fix is `chmod 600`);
  // - kInvalidArgument: the file is not one base64 line of a 32-byte seed (wrong size,
  //   truncated, garbage); the message names the file, never its content;
  // - kUnavailable: the file or its directory cannot be read or written (with the OS's reason);
  // - kInternal: libsodium failed to initialise or to allocate locked memory.
  static Expected<ModelSigner> open(const std::filesystem::path& key_file);

  // A configured key: the 32-byte seed in base64 (surrounding whitespace ignored).
  // kInvalidArgument when it is anything else; kInternal as for open().
  static Expected<ModelSigner> from_seed_base64(std::string_view seed_base64);

  ModelSigner(ModelSigner&&) noexcept;
  ModelSigner& operator=(ModelSigner&&) noexcept;
  ~ModelSigner();

  // The base64 detached Ed25519 signature (88 characters) of "<name>:<version>:<sha256_hex>".
  // Deterministic: the same input always gives the same signature.
  std::string sign(std::string_view name, int64_t version, std::string_view sha256_hex) const;

  // The 32-byte public key in base64 (44 characters): what GET /api/v1/fleet/signing-key and
  // the enrollment answer hand out.
  const std::string& public_key_base64() const { return public_key_base64_; }

  // True when open() made this key just now (the caller logs it once, with the public key).
  bool created() const { return created_; }

 private:
  struct SecretKey;
  explicit ModelSigner(std::unique_ptr<SecretKey> key);
  // `seed`: crypto_sign_SEEDBYTES (32) bytes; the caller wipes them.
  static Expected<ModelSigner> from_seed(const unsigned char* seed);

  std::unique_ptr<SecretKey> key_;
  std::string public_key_base64_;
  bool created_ = false;
};

// The text that is signed for a model version: "<name>:<version>:<sha256_hex>".
std::string model_signing_text(std::string_view name, int64_t version, std::string_view sha256_hex);

// True when `signature_b64` is a valid Ed25519 signature by `public_key_b64` over the text of
// (name, version, sha256_hex). False on anything else: base64 that is not the standard alphabet
// with padding (no whitespace), a key that is not 32 bytes or a signature that is not 64. Throws
// for no input (only when memory for the signed text runs out). Thread-safe.
bool verify_model_signature(std::string_view public_key_b64, std::string_view name, int64_t version,
                            std::string_view sha256_hex, std::string_view signature_b64);

}  // namespace vigil::fleet
