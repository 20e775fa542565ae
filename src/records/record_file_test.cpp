#include "records/record_file.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

namespace vigil::records {
namespace {

std::string data(const std::string& name) {
  return std::string(VIGIL_TEST_DATA_DIR) + "/records/" + name;
}

TEST(RecordFileTest, AGoodRecordGivesEveryAttributeTheHypnogramAndEveryChannel) {
  auto r = read_record_file(data("record_alice_night1.h5"));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->user, "alice");
  EXPECT_FALSE(r->device.empty());
  EXPECT_FALSE(r->dreempy_version.empty());
  EXPECT_GT(r->stop_time, r->start_time);
  EXPECT_GE(r->sleep_start_time, r->start_time);
  EXPECT_LE(r->sleep_stop_time, r->stop_time);
  EXPECT_TRUE(std::isfinite(r->sleep_score));
  EXPECT_EQ(r->attributes.size(), 10u);
  EXPECT_EQ(std::get<std::string>(r->attributes.at("user")), "alice");
  EXPECT_EQ(r->hypnogram.size(), 120u);
  for (int8_t s : r->hypnogram) {
    EXPECT_GE(s, -1);
    EXPECT_LE(s, 4);
  }
  ASSERT_GE(r->channels.size(), 3u);
  size_t eeg = 0;
  for (const Channel& c : r->channels) {
    EXPECT_GT(c.fs, 0) << c.name;
    EXPECT_EQ(c.samples.size(), 450000u) << c.name;
    EXPECT_EQ(c.samples.size() / c.fs, 3600) << "an hour at fs";
    eeg += c.modality == "eeg";
  }
  EXPECT_EQ(eeg, 2u);
  const Channel& f7 = r->channels[1];
  EXPECT_EQ(f7.name, "F7_O1");
  EXPECT_FALSE(f7.unit.empty());
  const double sum = std::accumulate(f7.samples.begin(), f7.samples.end(), 0.0);
  EXPECT_TRUE(std::isfinite(sum));
}

TEST(RecordFileTest, BadFilesAreRefusedWithTheirReason) {
  auto missing = read_record_file(data("bad_missing_attrs.h5"));
  EXPECT_EQ(missing.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("attribute device is missing"), std::string::npos)
      << missing.status().message();
  auto not_hdf5 = read_record_file(data("bad_not_hdf5.h5"));
  EXPECT_EQ(not_hdf5.status().message(), "not an HDF5 file");
  auto truncated = read_record_file(data("bad_truncated.h5"));
  EXPECT_EQ(truncated.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(truncated.status().message().find("truncated"), std::string::npos)
      << truncated.status().message();
  EXPECT_EQ(read_record_file(data("nope.h5")).status().code(), ErrorCode::kNotFound);
}

TEST(RecordFileTest, LimitsAreCheckedBeforeReading) {
  auto few = read_record_file(data("record_bob_night1.h5"), {.max_samples = 300'000});
  EXPECT_EQ(few.status().code(), ErrorCode::kResourceExhausted) << few.status().to_string();
  auto epochs = read_record_file(data("record_bob_night1.h5"), {.max_epochs = 10});
  EXPECT_EQ(epochs.status().code(), ErrorCode::kResourceExhausted);
  auto channels = read_record_file(data("record_bob_night1.h5"), {.max_channels = 2});
  EXPECT_EQ(channels.status().code(), ErrorCode::kResourceExhausted);
  auto ok = read_record_file(data("record_bob_night1.h5"));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->user, "bob");
  EXPECT_EQ(ok->hypnogram.size(), 60u);
}

}  // namespace
}  // namespace vigil::records
