// Records in the store, one suite on both backends: SQLite (record_store_test.cpp) and
// PostgreSQL (record_store_pgtest.cpp).
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <thread>

#include "records/record_store.h"
#include "records/signal_codec.h"
#include "support/backends.h"

namespace vigil::records::testing {

// A record as a parser hands it over: two channels of `seconds` at 250 and 125 Hz.
inline RecordFile sample_record(const std::string& user, const std::string& device, int64_t start,
                                int seconds = 120, float spike = 0) {
  RecordFile r;
  r.user = user;
  r.device = device;
  r.dreempy_version = "2.3.1";
  r.start_time = start;
  r.stop_time = start + seconds;
  r.sleep_start_time = start + 30;
  r.sleep_stop_time = r.stop_time;
  r.sleep_score = 70 + static_cast<double>(start % 7);
  r.number_of_stimulations = 12;
  r.number_of_wake = 2;
  r.attributes = {{"user", user},
                  {"device", device},
                  {"dreempy_version", std::string("2.3.1")},
                  {"start_time", start},
                  {"stop_time", r.stop_time},
                  {"sleep_score", r.sleep_score},
                  {"custom", std::string("kept")}};
  for (int e = 0; e < seconds / 30; ++e) r.hypnogram.push_back(static_cast<int8_t>(e % 5));
  for (auto [name, fs] : {std::pair{"F7_O1", 250.0}, std::pair{"accel_x", 125.0}}) {
    Channel c{.modality = name[0] == 'F' ? "eeg" : "accelerometer",
              .name = name,
              .fs = fs,
              .unit = name[0] == 'F' ? "uV" : "g"};
    c.samples.resize(static_cast<size_t>(fs * seconds));
    for (size_t i = 0; i < c.samples.size(); ++i) {
      c.samples[i] = static_cast<float>(std::sin(static_cast<double>(i) / 10) * 50);
    }
    if (spike != 0) c.samples[c.samples.size() / 3] = spike;
    r.channels.push_back(std::move(c));
  }
  return r;
}

template <typename Backend>
class RecordSuite : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_.set_up();
    if (IsSkipped() || HasFatalFailure()) return;
    vigil::testing::open_migrated(backend_.url(), 4, db_);
    if (HasFatalFailure()) return;
    store_ = std::make_unique<RecordStore>(*db_);
    alice_ = user("alice@example.com", "Alice");
    bob_ = user("bob@example.com", "bob");
  }
  void TearDown() override {
    store_.reset();
    db_.reset();
    backend_.tear_down();
  }
  int64_t user(const std::string& email, const std::string& username) {
    std::vector<store::Value> p{email, email, username, std::string("2026-01-01T00:00:00Z")};
    auto id = db_->query(
        "INSERT INTO users (email, email_key, name, password_hash, role, created_at, updated_at, "
        "username) VALUES ($1, $2, '', 'x', 'user', $4, $4, $3) RETURNING id",
        p);
    EXPECT_TRUE(id.ok()) << id.status().to_string();
    return id.ok() ? id->get_int(0, 0) : 0;
  }
  Expected<Record> put(const RecordFile& f, const std::string& sha) {
    return store_->insert(f, {.sha256 = sha, .file_name = sha + ".h5", .file_bytes = 1000});
  }

  Backend backend_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<RecordStore> store_;
  int64_t alice_ = 0, bob_ = 0;
};

TYPED_TEST_SUITE_P(RecordSuite);

TYPED_TEST_P(RecordSuite, ARecordKeepsEveryFieldItsHypnogramAndItsSamples) {
  const RecordFile f = sample_record("alice", "dreem-7", 1'700'000'000, 600, 999);
  auto r = this->put(f, "aa01");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->user_id, this->alice_);  // the username matched ignoring case
  EXPECT_EQ(r->username, "alice");
  EXPECT_GT(r->device_id, 0);
  EXPECT_EQ(r->device, "dreem-7");
  EXPECT_EQ(r->start_time, 1'700'000'000);
  EXPECT_EQ(r->stop_time, 1'700'000'600);
  EXPECT_EQ(r->sleep_score, f.sleep_score);
  EXPECT_EQ(r->number_of_stimulations, 12);
  EXPECT_EQ(r->source, "dropzone");
  EXPECT_EQ(r->stats.epochs, 20);
  EXPECT_EQ(r->stats.wake_s, 4 * 30);
  EXPECT_TRUE(r->hypnogram.empty());
  auto attributes = boost::json::parse(r->attributes).as_object();
  EXPECT_EQ(attributes.at("custom").as_string(), "kept");
  EXPECT_EQ(attributes.at("start_time").as_int64(), 1'700'000'000);
  ASSERT_EQ(r->channels.size(), 2u);
  EXPECT_EQ(r->channels[0].name, "F7_O1");
  EXPECT_EQ(r->channels[0].samples, 150'000);
  EXPECT_EQ(r->channels[1].fs, 125);
  EXPECT_EQ(r->channels[1].unit, "g");

  auto full = this->store_->get(r->id, true);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->hypnogram, f.hypnogram);
  auto all = this->store_->samples(r->id, 0, 0, 1'000'000);
  ASSERT_TRUE(all.ok()) << all.status().to_string();
  EXPECT_EQ(*all, f.channels[0].samples);
  // A range across chunk boundaries reads only what it asks for.
  auto part = this->store_->samples(r->id, 1, 16'000, 40'000);
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(*part, std::vector<float>(f.channels[1].samples.begin() + 16'000,
                                      f.channels[1].samples.begin() + 40'000));
  EXPECT_TRUE(this->store_->samples(r->id, 1, 75'000, 80'000)->empty());
  EXPECT_EQ(this->store_->samples(r->id, 2, 0, 10).status().code(), ErrorCode::kNotFound);

  // The device was registered, of type unknown.
  std::vector<store::Value> p{r->device_id};
  auto device = this->db_->query("SELECT name, type FROM devices WHERE id = $1", p);
  ASSERT_TRUE(device.ok());
  EXPECT_EQ(device->get_text(0, 0), "dreem-7");
  EXPECT_EQ(device->get_text(0, 1), "unknown");
}

TYPED_TEST_P(RecordSuite, UnknownUsersDuplicatesAndBadDevicesAreRefused) {
  auto stranger = this->put(sample_record("carol", "d1", 1'700'000'000), "bb01");
  EXPECT_EQ(stranger.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(stranger.status().message(), "no user has the username carol");
  auto first = this->put(sample_record("BOB", "d1", 1'700'000'000), "bb02");
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  EXPECT_EQ(first->user_id, this->bob_);
  auto again = this->put(sample_record("bob", "d1", 1'700'000'000), "bb02");
  EXPECT_EQ(again.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_NE(again.status().message().find("record " + std::to_string(first->id)),
            std::string::npos);
  EXPECT_EQ(*this->store_->find_sha256("bb02"), first->id);
  EXPECT_FALSE(this->store_->find_sha256("zz")->has_value());
  auto bad_device = this->put(sample_record("bob", "no spaces please", 1'700'000'000), "bb03");
  EXPECT_EQ(bad_device.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad_device.status().field(), "device");
  // Nothing of the refused ones was kept; the device of the stored one once.
  auto records = this->db_->query("SELECT count(*) FROM records");
  EXPECT_EQ(records->get_int(0, 0), 1);
  auto devices = this->db_->query("SELECT count(*) FROM devices WHERE lower(name) = 'd1'");
  EXPECT_EQ(devices->get_int(0, 0), 1);
}

TYPED_TEST_P(RecordSuite, ListsFilterAndPageNewestFirst) {
  const int64_t day = 86'400;
  const int64_t t0 = 1'700'000'000;
  for (int i = 0; i < 6; ++i) {
    RecordFile f = sample_record(i % 2 ? "bob" : "alice", i < 3 ? "dev-a" : "dev-b", t0 + i * day);
    f.sleep_score = 50 + 10 * i;
    ASSERT_TRUE(this->put(f, "cc" + std::to_string(i)).ok());
  }
  auto all = this->store_->list({});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 6u);
  EXPECT_EQ((*all)[0].start_time, t0 + 5 * day);
  EXPECT_EQ((*all)[0].channels.size(), 2u);
  auto page = this->store_->list({.limit = 4});
  ASSERT_EQ(page->size(), 4u);
  auto rest = this->store_->list({.limit = 4, .before_id = page->back().id});
  ASSERT_EQ(rest->size(), 2u);
  EXPECT_EQ(this->store_->list({.user = "Bob"})->size(), 3u);
  EXPECT_EQ(this->store_->list({.device = "DEV-B"})->size(), 3u);
  EXPECT_EQ(this->store_->list({.from = t0 + day, .to = t0 + 3 * day})->size(), 2u);
  EXPECT_EQ(this->store_->list({.min_score = 60, .max_score = 80})->size(), 3u);
  EXPECT_EQ(this->store_->list({.user = std::to_string(this->alice_)})->size(), 3u);
  EXPECT_EQ(*this->store_->user_id("ALICE"), this->alice_);
  EXPECT_EQ(*this->store_->user_id(std::to_string(this->bob_)), this->bob_);
  EXPECT_EQ(this->store_->user_id("nobody").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->store_->list({.limit = 0}).status().code(), ErrorCode::kInvalidArgument);
  // A user's records wholly inside a window, with hypnograms.
  auto within = this->store_->within(this->alice_, t0, t0 + 2 * day + 120, 100);
  ASSERT_TRUE(within.ok());
  ASSERT_EQ(within->size(), 2u);
  EXPECT_EQ((*within)[0].start_time, t0);
  EXPECT_EQ((*within)[0].hypnogram.size(), 4u);
  EXPECT_EQ(this->store_->within(this->alice_, t0, t0 + 2 * day + 119, 100)->size(), 1u);
  ASSERT_TRUE(this->store_->remove((*all)[0].id).ok());
  EXPECT_EQ(this->store_->get((*all)[0].id, false).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->store_->remove((*all)[0].id).code(), ErrorCode::kNotFound);
  auto chunks = this->db_->query("SELECT count(*) FROM record_chunks");
  EXPECT_EQ(chunks->get_int(0, 0), 5 * (2 + 1));  // 30 000 and 15 000 samples a record
}

TYPED_TEST_P(RecordSuite, ConcurrentInsertsOfOneNewDeviceRegisterItOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto r = this->put(sample_record("alice", "Shared-Dev", 1'700'000'000 + i),
                         "dd" + std::to_string(i));
      if (r.ok())
        ++ok;
      else
        ADD_FAILURE() << r.status().to_string();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 4);
  auto devices = this->db_->query("SELECT count(*) FROM devices WHERE lower(name) = 'shared-dev'");
  EXPECT_EQ(devices->get_int(0, 0), 1);
}

// A channel handed over as a file's own compressed chunks (7 000 samples a chunk, the last one
// short) is stored as they are and read back by range like any other.
TYPED_TEST_P(RecordSuite, AFilesOwnChunksAreStoredAsTheyAreAndReadByRange) {
  RecordFile f = sample_record("bob", "dreem-8", 1'700'100'000, 120);
  Channel& c = f.channels[0];  // 30 000 samples
  const std::vector<float> x = c.samples;
  for (size_t first = 0; first < x.size(); first += 7000) {
    std::vector<float> whole(7000, 0.0f);
    std::copy(x.begin() + first, x.begin() + std::min(x.size(), first + 7000), whole.begin());
    uLongf size = compressBound(7000 * sizeof(float));
    std::string z(size, '\0');
    ASSERT_EQ(compress2(reinterpret_cast<Bytef*>(z.data()), &size,
                        reinterpret_cast<const Bytef*>(whole.data()), 7000 * sizeof(float), 4),
              Z_OK);
    z.resize(size);
    auto kept =
        keep_zlib_chunk(z, static_cast<uint32_t>(std::min<size_t>(7000, x.size() - first)), 7000);
    ASSERT_TRUE(kept.ok()) << kept.status().to_string();
    c.chunks.push_back(std::move(*kept));
  }
  c.samples.clear();
  auto r = this->put(f, "bb02");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->channels[0].samples, 30'000);
  auto all = this->store_->samples(r->id, 0, 0, 30'000);
  ASSERT_TRUE(all.ok()) << all.status().to_string();
  EXPECT_TRUE(*all == x);
  auto part = this->store_->samples(r->id, 0, 6'990, 28'010);  // four chunks, two cut
  ASSERT_TRUE(part.ok()) << part.status().to_string();
  EXPECT_TRUE(*part == std::vector<float>(x.begin() + 6'990, x.begin() + 28'010));
  auto tail = this->store_->samples(r->id, 0, 29'999, 40'000);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(*tail, std::vector<float>{x.back()});
}

REGISTER_TYPED_TEST_SUITE_P(RecordSuite, ARecordKeepsEveryFieldItsHypnogramAndItsSamples,
                            AFilesOwnChunksAreStoredAsTheyAreAndReadByRange,
                            UnknownUsersDuplicatesAndBadDevicesAreRefused,
                            ListsFilterAndPageNewestFirst,
                            ConcurrentInsertsOfOneNewDeviceRegisterItOnce);

}  // namespace vigil::records::testing
