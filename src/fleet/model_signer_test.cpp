#include "fleet/model_signer.h"

#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>
#include <vector>

#include "support/temp_db.h"

namespace vigil::fleet {
namespace {

namespace fs = std::filesystem;

// Known answers, computed outside libsodium with OpenSSL 3.0 from the seed 00 01 02 … 1f:
//   printf '302e020100300506032b657004220420%s' 000102…1f | xxd -r -p > key.der
//   printf 'diabetes:3:%s' "$(printf 'model bytes' | sha256sum | cut -d' ' -f1)" > msg
//   openssl pkeyutl -sign -rawin -inkey key.der -keyform DER -in msg | base64 -w0
//   openssl pkey -inform DER -in key.der -pubout -outform DER | tail -c 32 | base64
constexpr std::string_view kSeed = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
constexpr std::string_view kPublicKey = "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=";
constexpr std::string_view kSha =
    "9cb7487000bc86ac36ce83c4acfabe8878552be99572a6770f65ab1d048a5c48";
constexpr std::string_view kSignature =
    "9QC6Wy2vJSvGaLvn/C0JQwQNnEBxhC8j/ghQ+uGeKtlLTbuEUhGsco2m2zrViKV7FzrYJmmpuXJ6+zCMOTUqAw==";

ModelSigner known_signer() {
  auto signer = ModelSigner::from_seed_base64(kSeed);
  EXPECT_TRUE(signer.ok()) << signer.status().to_string();
  return std::move(signer).value();
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_text(const fs::path& path, std::string_view text, fs::perms mode) {
  std::ofstream(path, std::ios::binary) << text;
  fs::permissions(path, mode);
}

unsigned mode_of(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_mode & 07777;
}

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = vigil::testing::make_temp_dir("vigil-signer-");
    ASSERT_FALSE(dir.empty()) << "mkdtemp failed";
    key = dir / "signing.key";
  }
  void TearDown() override { fs::remove_all(dir); }

  // Opening `key` with `content` and `mode` fails with `code`, and leaves the file as it was.
  void expect_refused(std::string_view content, fs::perms mode, ErrorCode code) {
    write_text(key, content, mode);
    auto signer = ModelSigner::open(key);
    ASSERT_FALSE(signer.ok());
    EXPECT_EQ(signer.status().code(), code) << signer.status().to_string();
    EXPECT_NE(signer.status().message().find(key.string()), std::string::npos);
    if (!content.empty()) {  // the secret stays out of the message
      EXPECT_EQ(signer.status().message().find(content.substr(0, 8)), std::string::npos);
    }
    EXPECT_EQ(read_text(key), content);
  }

  fs::path dir;
  fs::path key;
};

TEST(ModelSignerTest, MatchesOpenSslForAKnownSeed) {
  ModelSigner signer = known_signer();
  EXPECT_EQ(signer.public_key_base64(), kPublicKey);
  EXPECT_EQ(signer.sign("diabetes", 3, kSha), kSignature);
  EXPECT_EQ(signer.sign("diabetes", 3, kSha), kSignature);  // deterministic
  EXPECT_TRUE(verify_model_signature(kPublicKey, "diabetes", 3, kSha, kSignature));
}

TEST(ModelSignerTest, DerivesThePublicKeyOfRfc8032TestOne) {
  auto signer = ModelSigner::from_seed_base64("nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=");
  ASSERT_TRUE(signer.ok());
  EXPECT_EQ(signer->public_key_base64(), "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
}

TEST(ModelSignerTest, SignsTheTextApiMdNames) {
  EXPECT_EQ(model_signing_text("diabetes", 3, "ab12"), "diabetes:3:ab12");
  EXPECT_EQ(model_signing_text("blank", 17, kSha), "blank:17:" + std::string(kSha));
}

TEST(ModelSignerTest, RoundTripsAndRefusesAnyChange) {
  ModelSigner signer = known_signer();
  std::string pk = signer.public_key_base64();
  std::string sig = signer.sign("camera-7", 12, kSha);
  EXPECT_EQ(sig.size(), 88u);
  EXPECT_TRUE(verify_model_signature(pk, "camera-7", 12, kSha, sig));
  EXPECT_FALSE(verify_model_signature(pk, "camera-8", 12, kSha, sig));
  EXPECT_FALSE(verify_model_signature(pk, "Camera-7", 12, kSha, sig));
  EXPECT_FALSE(verify_model_signature(pk, "camera-7", 13, kSha, sig));
  EXPECT_FALSE(verify_model_signature(pk, "camera-7", -12, kSha, sig));
  std::string other_sha(kSha);
  other_sha[0] = '8';
  EXPECT_FALSE(verify_model_signature(pk, "camera-7", 12, other_sha, sig));
  EXPECT_FALSE(verify_model_signature(pk, "camera-7", 12, "", sig));
}

// Every single-bit change of the signature, decoded and encoded again, is refused.
TEST(ModelSignerTest, RefusesEveryFlippedSignatureBit) {
  ModelSigner signer = known_signer();
  std::string sig = signer.sign("m", 1, kSha);
  unsigned char raw[crypto_sign_BYTES];
  size_t len = 0;
  ASSERT_EQ(sodium_base642bin(raw, sizeof raw, sig.data(), sig.size(), nullptr, &len, nullptr,
                              sodium_base64_VARIANT_ORIGINAL),
            0);
  ASSERT_EQ(len, sizeof raw);
  char flipped[sodium_base64_ENCODED_LEN(crypto_sign_BYTES, sodium_base64_VARIANT_ORIGINAL)];
  for (size_t bit = 0; bit < 8 * sizeof raw; ++bit) {
    raw[bit / 8] ^= static_cast<unsigned char>(1u << (bit % 8));
    sodium_bin2base64(flipped, sizeof flipped, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
    EXPECT_FALSE(verify_model_signature(signer.public_key_base64(), "m", 1, kSha, flipped)) << bit;
    raw[bit / 8] ^= static_cast<unsigned char>(1u << (bit % 8));
  }
}

TEST(ModelSignerTest, RefusesAnotherKeysSignature) {
  auto other = ModelSigner::from_seed_base64("nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=");
  ASSERT_TRUE(other.ok());
  std::string sig = other->sign("diabetes", 3, kSha);
  EXPECT_FALSE(verify_model_signature(kPublicKey, "diabetes", 3, kSha, sig));
  EXPECT_FALSE(verify_model_signature(other->public_key_base64(), "diabetes", 3, kSha, kSignature));
}

TEST(ModelSignerTest, VerifyReturnsFalseOnMalformedInput) {
  std::string url_safe_pk(kPublicKey);
  std::replace(url_safe_pk.begin(), url_safe_pk.end(), '/', '_');
  std::string url_safe_sig(kSignature);
  std::replace(url_safe_sig.begin(), url_safe_sig.end(), '/', '_');
  std::replace(url_safe_sig.begin(), url_safe_sig.end(), '+', '-');
  std::string with_nul(kSignature);
  with_nul[10] = '\0';
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", std::string(kSignature)},
      {std::string(kPublicKey), ""},
      {"not base64!", std::string(kSignature)},
      {std::string(kPublicKey), "%%%%"},
      {std::string(kPublicKey.substr(0, 43)), std::string(kSignature)},  // no padding
      {std::string(kPublicKey), std::string(kSignature.substr(0, 86))},
      {std::string(kPublicKey.substr(0, 40)), std::string(kSignature)},  // 30 bytes
      {std::string(kPublicKey) + "AAAA", std::string(kSignature)},       // 35 bytes
      {std::string(kPublicKey), std::string(kSignature) + "AAAA"},       // 67 bytes
      {" " + std::string(kPublicKey), std::string(kSignature)},          // whitespace
      {std::string(kPublicKey), std::string(kSignature) + "\n"},
      {url_safe_pk, std::string(kSignature)},
      {std::string(kPublicKey), url_safe_sig},
      {std::string(kPublicKey), with_nul},
      {std::string(kPublicKey), std::string(1 << 20, 'A')},
      {std::string(kSignature), std::string(kSignature)},  // a signature is no key
  };
  for (const auto& [pk, sig] : cases) {
    EXPECT_FALSE(verify_model_signature(pk, "diabetes", 3, kSha, sig)) << pk << " / " << sig;
  }
}

TEST(ModelSignerTest, FromSeedRefusesAnythingButA32ByteSeed) {
  for (std::string_view bad :
       {"", "   ", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==",  // 31 bytes
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gIQ==",         // 34 bytes
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",              // no padding
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        "AAECAwQFBgcICQoLDA0ODxAREhMU FRYXGBkaGxwdHh8=", "not a key at all"}) {
    auto signer = ModelSigner::from_seed_base64(bad);
    ASSERT_FALSE(signer.ok()) << bad;
    EXPECT_EQ(signer.status().code(), ErrorCode::kInvalidArgument);
  }
  auto padded = ModelSigner::from_seed_base64("\n " + std::string(kSeed) + "\r\n");
  ASSERT_TRUE(padded.ok());
  EXPECT_EQ(padded->public_key_base64(), kPublicKey);
}

TEST(ModelSignerTest, SignsFromManyThreadsAtOnce) {
  const ModelSigner signer = known_signer();
  std::vector<std::thread> threads;
  std::vector<int> wrong(8, 0);
  for (size_t t = 0; t < wrong.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) wrong[t] += signer.sign("diabetes", 3, kSha) != kSignature;
    });
  }
  for (auto& thread : threads) thread.join();
  for (int w : wrong) EXPECT_EQ(w, 0);
}

TEST(ModelSignerTest, AMovedSignerKeepsItsKey) {
  ModelSigner a = known_signer();
  ModelSigner b = std::move(a);
  EXPECT_EQ(b.sign("diabetes", 3, kSha), kSignature);
  ModelSigner c = known_signer();
  c = std::move(b);
  EXPECT_EQ(c.public_key_base64(), kPublicKey);
}

TEST_F(KeyFileTest, CreatesA0600KeyOnFirstStartAndReadsItAfter) {
  auto first = ModelSigner::open(key);
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  EXPECT_TRUE(first->created());
  EXPECT_EQ(mode_of(key), 0600u);
  std::string content = read_text(key);
  ASSERT_EQ(content.size(), 45u);  // the documented format: 44 base64 characters, a newline
  EXPECT_EQ(content.back(), '\n');
  auto again = ModelSigner::open(key);
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_FALSE(again->created());
  EXPECT_EQ(again->public_key_base64(), first->public_key_base64());
  EXPECT_EQ(read_text(key), content);
  auto configured = ModelSigner::from_seed_base64(content);
  ASSERT_TRUE(configured.ok());
  EXPECT_EQ(configured->public_key_base64(), first->public_key_base64());
  std::string sig = first->sign("m", 1, kSha);
  EXPECT_TRUE(verify_model_signature(again->public_key_base64(), "m", 1, kSha, sig));
  // Only the key file is left: the temp file it was written to is gone.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}

TEST_F(KeyFileTest, CreatesMissingDirectories) {
  auto signer = ModelSigner::open(dir / "a" / "b" / "signing.key");
  ASSERT_TRUE(signer.ok()) << signer.status().to_string();
  EXPECT_EQ(mode_of(dir / "a" / "b" / "signing.key"), 0600u);
}

TEST_F(KeyFileTest, ReadsAnExistingKeyAndNeverRewritesIt) {
  const std::string content = std::string(kSeed) + "\n";
  write_text(key, content, fs::perms::owner_read | fs::perms::owner_write);
  auto signer = ModelSigner::open(key);
  ASSERT_TRUE(signer.ok()) << signer.status().to_string();
  EXPECT_FALSE(signer->created());
  EXPECT_EQ(signer->public_key_base64(), kPublicKey);
  EXPECT_EQ(read_text(key), content);
}

TEST_F(KeyFileTest, AcceptsAnOwnerReadOnlyKey) {
  write_text(key, kSeed, fs::perms::owner_read);
  auto signer = ModelSigner::open(key);
  ASSERT_TRUE(signer.ok()) << signer.status().to_string();
  EXPECT_EQ(signer->public_key_base64(), kPublicKey);
}

TEST_F(KeyFileTest, RefusesAKeyOthersCanAccess) {
  using P = fs::perms;
  const std::string content = std::string(kSeed) + "\n";
  const P owner = P::owner_read | P::owner_write;
  expect_refused(content, owner | P::group_read | P::others_read, ErrorCode::kFailedPrecondition);
  expect_refused(content, owner | P::group_read, ErrorCode::kFailedPrecondition);
  expect_refused(content, owner | P::others_write, ErrorCode::kFailedPrecondition);
}

TEST_F(KeyFileTest, RefusesAMalformedKeyAndLeavesIt) {
  using P = fs::perms;
  const P owner = P::owner_read | P::owner_write;
  expect_refused("", owner, ErrorCode::kInvalidArgument);
  expect_refused(kSeed.substr(0, 20), owner, ErrorCode::kInvalidArgument);  // truncated
  expect_refused(kSeed.substr(0, 43), owner, ErrorCode::kInvalidArgument);
  expect_refused("-----BEGIN PRIVATE KEY-----\ngarbage\n", owner, ErrorCode::kInvalidArgument);
  expect_refused(std::string(kSeed) + "\n" + std::string(kSeed) + "\n", owner,
                 ErrorCode::kInvalidArgument);
  expect_refused(std::string(4096, 'A'), owner, ErrorCode::kInvalidArgument);  // too large
  expect_refused(
      "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==\n",
      owner, ErrorCode::kInvalidArgument);  // a 64-byte libsodium secret key
}

TEST_F(KeyFileTest, RefusesWhatIsNotARegularFile) {
  fs::create_directory(key);
  auto signer = ModelSigner::open(key);
  ASSERT_FALSE(signer.ok());
  EXPECT_EQ(signer.status().code(), ErrorCode::kFailedPrecondition);
  fs::path fifo = dir / "fifo.key";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  signer = ModelSigner::open(fifo);  // refused at once, without waiting for a writer
  ASSERT_FALSE(signer.ok());
  EXPECT_EQ(signer.status().code(), ErrorCode::kFailedPrecondition);
}

// Servers starting at once on one data dir end up with one key: whoever links first wins, the
// others read its key.
TEST_F(KeyFileTest, ConcurrentFirstStartsAgreeOnOneKey) {
  constexpr int kThreads = 8;
  std::vector<std::string> keys(kThreads);
  std::vector<int> created(kThreads, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto signer = ModelSigner::open(key);
      if (!signer.ok()) return;
      keys[i] = signer->public_key_base64();
      created[i] = signer->created();
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), 1u);
  EXPECT_FALSE(keys[0].empty());
  EXPECT_EQ(std::count(created.begin(), created.end(), 1), 1);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}

}  // namespace
}  // namespace vigil::fleet
