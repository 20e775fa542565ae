#include "records/record_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <hdf5.h>

#include <filesystem>
#include <fstream>

#include "records/signal_codec.h"

namespace vigil::records {
namespace {

namespace fs = std::filesystem;

class RecordWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "vigil-writer-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

std::string shared(const std::string& name) {
  return std::string(VIGIL_TEST_DATA_DIR) + "/records/" + name;
}

void expect_same(const RecordFile& a, const RecordFile& b) {
  EXPECT_EQ(a.attributes, b.attributes);
  EXPECT_EQ(a.user, b.user);
  EXPECT_EQ(a.device, b.device);
  EXPECT_EQ(a.start_time, b.start_time);
  EXPECT_EQ(a.sleep_score, b.sleep_score);
  EXPECT_EQ(a.hypnogram, b.hypnogram);
  ASSERT_EQ(a.channels.size(), b.channels.size());
  for (size_t i = 0; i < a.channels.size(); ++i) {
    const Channel& x = a.channels[i];
    const Channel& y = b.channels[i];
    EXPECT_EQ(x.modality, y.modality);
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.fs, y.fs) << x.name;
    EXPECT_EQ(x.unit, y.unit) << x.name;
    EXPECT_TRUE(x.samples == y.samples) << x.name;  // no gtest dump of 450 000 values
  }
}

// A small record; channels in the order read_record_file lists them (by name).
RecordFile small_record() {
  RecordFile r;
  r.attributes = {{"user", std::string("carol")},
                  {"device", std::string("dreem-7")},
                  {"dreempy_version", std::string("2.1.0")},
                  {"start_time", int64_t{1'700'000'000}},
                  {"stop_time", int64_t{1'700'000'600}},
                  {"sleep_start_time", int64_t{1'700'000'060}},
                  {"sleep_stop_time", int64_t{1'700'000'540}},
                  {"sleep_score", 81.25},
                  {"number_of_stimulations", int64_t{3}},
                  {"number_of_wake", int64_t{-1}},
                  {"note", std::string("été – ünïcode")}};
  r.hypnogram = {0, 0, 1, 2, 2, 3, 3, 4, 4, 2, -1, 0, 0, 1, 2, 3, 4, 2, 0, 0};
  r.channels.push_back({"accelerometer", "x", 50, "g", {0.5f, -0.25f, 1e-3f}});
  r.channels.push_back({"eeg", "F7_O1", 250, "uV", {}});
  r.channels.push_back({"eeg", "Fp1_O2", 250.5, "", {}});
  for (int i = 0; i < 5000; ++i) {
    r.channels[1].samples.push_back(static_cast<float>(i % 97) * 0.5f - 20);
    r.channels[2].samples.push_back(static_cast<float>(i) / 7);
  }
  return r;
}

TEST_F(RecordWriterTest, WhatIsWrittenIsReadBackTheSame) {
  for (int gzip : {0, 6}) {
    const RecordFile r = small_record();
    const std::string p = path("small-" + std::to_string(gzip) + ".h5");
    ASSERT_TRUE(write_record_file(p, r, {.gzip_level = gzip}).ok());
    auto back = read_record_file(p);
    ASSERT_TRUE(back.ok()) << back.status().to_string();
    EXPECT_EQ(back->user, "carol");
    EXPECT_EQ(back->number_of_wake, -1);
    EXPECT_EQ(back->sleep_score, 81.25);
    RecordFile expected = r;
    ASSERT_TRUE(take_required(expected).ok());
    expect_same(*back, expected);
  }
}

TEST_F(RecordWriterTest, TheSharedGoodFilesSurviveAWriteBack) {
  for (const char* name : {"record_alice_night1.h5", "record_bob_night1.h5"}) {
    auto original = read_record_file(shared(name));
    ASSERT_TRUE(original.ok()) << original.status().to_string();
    ASSERT_TRUE(write_record_file(path(name), *original, {.gzip_level = 1}).ok());
    auto again = read_record_file(path(name));
    ASSERT_TRUE(again.ok()) << again.status().to_string();
    expect_same(*again, *original);
  }
}

// Read with keep_chunks, a gzip-compressed channel comes back as the file's own chunks (decoding
// to the same samples) and an uncompressed one as samples; a chunk damaged inside the file is
// refused, not kept.
TEST_F(RecordWriterTest, GzippedChannelsAreKeptAsTheFilesChunks) {
  const RecordFile r = small_record();
  ASSERT_TRUE(write_record_file(path("plain.h5"), r).ok());
  auto plain = read_record_file(path("plain.h5"), {}, true);
  ASSERT_TRUE(plain.ok()) << plain.status().to_string();
  for (const Channel& c : plain->channels) EXPECT_TRUE(c.chunks.empty()) << c.name;
  ASSERT_TRUE(write_record_file(path("gz.h5"), r, {.gzip_level = 6}).ok());
  auto gz = read_record_file(path("gz.h5"), {}, true);
  ASSERT_TRUE(gz.ok()) << gz.status().to_string();
  ASSERT_EQ(gz->channels.size(), r.channels.size());
  for (size_t i = 0; i < r.channels.size(); ++i) {
    const Channel& c = gz->channels[i];
    EXPECT_TRUE(c.samples.empty());
    ASSERT_FALSE(c.chunks.empty()) << c.name;
    EXPECT_EQ(c.length(), r.channels[i].samples.size());
    std::vector<float> back;
    for (const std::string& k : c.chunks) ASSERT_TRUE(decode_signal_chunk(k, back).ok());
    EXPECT_TRUE(back == r.channels[i].samples) << c.name;
  }
  // Flip a byte in the middle of eeg/F7_O1's (only) chunk.
  haddr_t address = 0;
  hsize_t size = 0;
  {
    const hid_t f = H5Fopen(path("gz.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    const hid_t d = H5Dopen2(f, "signals/eeg/F7_O1", H5P_DEFAULT);
    ASSERT_GE(d, 0);
    const hsize_t first = 0;
    unsigned mask = 0;
    ASSERT_GE(H5Dget_chunk_info_by_coord(d, &first, &mask, &address, &size), 0);
    H5Dclose(d);
    H5Fclose(f);
  }
  {
    std::fstream file(path("gz.h5"), std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(static_cast<std::streamoff>(address + size / 2));
    const char c = static_cast<char>(file.get() ^ 0x5a);
    file.seekp(static_cast<std::streamoff>(address + size / 2));
    file.put(c);
  }
  auto damaged = read_record_file(path("gz.h5"), {}, true);
  EXPECT_EQ(damaged.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(damaged.status().message(), "signals/eeg/F7_O1 cannot be read (damaged or truncated)");
}

TEST_F(RecordWriterTest, ARecordWithoutSignalsOrHypnogramIsWritten) {
  RecordFile r = small_record();
  r.channels.clear();
  r.hypnogram.clear();
  ASSERT_TRUE(write_record_file(path("bare.h5"), r).ok());
  auto back = read_record_file(path("bare.h5"));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_TRUE(back->channels.empty());
  EXPECT_TRUE(back->hypnogram.empty());
}

TEST_F(RecordWriterTest, BadChannelNamesAndUnwritablePathsAreRefused) {
  RecordFile r = small_record();
  r.channels[0].name = "a/b";
  EXPECT_EQ(write_record_file(path("x.h5"), r).code(), ErrorCode::kInvalidArgument);
  r = small_record();
  r.channels[2].name = "F7_O1";
  EXPECT_EQ(write_record_file(path("x.h5"), r).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(write_record_file(path("no/such/dir/x.h5"), small_record()).code(),
            ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace vigil::records
