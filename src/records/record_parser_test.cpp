// The wire between the parser child and the server, and how parse_in_child reads a child's
// end: refused, crashed, too slow, not started. The real child (vigil parse-record) on real
// files is in tests/integration/records_parser_test.cpp.
#include "records/record_parser.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

namespace vigil::records {
namespace {

namespace fs = std::filesystem;

std::string data(const std::string& name) {
  return std::string(VIGIL_TEST_DATA_DIR) + "/records/" + name;
}

TEST(RecordParserTest, TheWireCarriesARecordWhole) {
  auto r = read_record_file(data("record_bob_night1.h5"));
  ASSERT_TRUE(r.ok());
  const std::string wire = encode_record(*r);
  auto back = decode_record(wire);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(back->attributes, r->attributes);
  EXPECT_EQ(back->user, "bob");
  EXPECT_EQ(back->sleep_score, r->sleep_score);
  EXPECT_EQ(back->hypnogram, r->hypnogram);
  ASSERT_EQ(back->channels.size(), r->channels.size());
  for (size_t i = 0; i < r->channels.size(); ++i) {
    EXPECT_EQ(back->channels[i].name, r->channels[i].name);
    EXPECT_EQ(back->channels[i].fs, r->channels[i].fs);
    EXPECT_EQ(back->channels[i].unit, r->channels[i].unit);
    EXPECT_EQ(back->channels[i].samples, r->channels[i].samples);
  }
  // Every damage is refused, never read past.
  EXPECT_FALSE(decode_record(wire.substr(0, wire.size() - 1)).ok());
  EXPECT_FALSE(decode_record(wire + "x").ok());
  EXPECT_FALSE(decode_record(wire.substr(0, wire.find('\n'))).ok());
  EXPECT_FALSE(decode_record("{}\n").ok());
  EXPECT_FALSE(decode_record("").ok());
  EXPECT_FALSE(decode_record(wire, {.max_samples = 1000}).ok());
}

TEST(RecordParserTest, TheWireCarriesKeptChunksAsTheyAre) {
  auto r = read_record_file(data("record_bob_night1.h5"), {}, /*keep_chunks=*/true);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_FALSE(r->channels.empty());
  const std::string wire = encode_record(*r);
  auto back = decode_record(wire);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  for (size_t i = 0; i < r->channels.size(); ++i) {
    EXPECT_TRUE(back->channels[i].samples.empty());
    EXPECT_EQ(back->channels[i].chunks, r->channels[i].chunks);
    EXPECT_EQ(back->channels[i].length(), r->channels[i].length());
  }
  EXPECT_FALSE(decode_record(wire.substr(0, wire.size() - 1)).ok());
  // A channel whose chunks hold other than its samples is refused.
  const size_t at = wire.find("\"samples\":");
  ASSERT_NE(at, std::string::npos);
  std::string miscounted = wire;
  miscounted.insert(at + 10, "1");
  EXPECT_FALSE(decode_record(miscounted).ok());
  // So is a chunk length out of range.
  const size_t sizes = wire.find("\"chunks\":[");
  ASSERT_NE(sizes, std::string::npos);
  std::string tiny = wire;
  tiny.insert(sizes + 10, "3,");
  EXPECT_FALSE(decode_record(tiny).ok());
}

// A file's float attribute may be NaN or infinite, which JSON has no number for: the wire
// carries it as itself. sleep_score, a field records are sorted and filtered by, must be finite.
TEST(RecordParserTest, NonFiniteAttributesCrossTheWire) {
  auto r = read_record_file(data("record_bob_night1.h5"));
  ASSERT_TRUE(r.ok());
  r->attributes["artefact_ratio"] = std::numeric_limits<double>::quiet_NaN();
  r->attributes["gain"] = -std::numeric_limits<double>::infinity();
  auto back = decode_record(encode_record(*r));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_TRUE(std::isnan(std::get<double>(back->attributes.at("artefact_ratio"))));
  EXPECT_EQ(std::get<double>(back->attributes.at("gain")),
            -std::numeric_limits<double>::infinity());
  r->attributes["sleep_score"] = std::numeric_limits<double>::infinity();
  auto refused = decode_record(encode_record(*r));
  EXPECT_EQ(refused.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(), "attribute sleep_score must be a finite number");
}

TEST(RecordParserTest, ARefusalKeepsItsReason) {
  auto s = decode_record(encode_refusal(invalid_field("file", "attribute user\nis missing")));
  EXPECT_EQ(s.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.status().message(), "attribute user is missing");
  auto big = decode_record(encode_refusal(Status(ErrorCode::kResourceExhausted, "too big")));
  EXPECT_EQ(big.status().code(), ErrorCode::kResourceExhausted);
  EXPECT_FALSE(decode_record("error x\n").ok());
}

class ChildTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vigil-parser-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  // A stand-in for the parser: a shell script.
  std::string script(const std::string& name, const std::string& body) {
    const fs::path p = dir_ / name;
    std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
    ::chmod(p.c_str(), 0755);
    return p.string();
  }
  fs::path dir_;
};

// A script body that answers the first request as a parser child does: the line `message` (sh
// expands it) in a frame, its length as a u64 LE first (under 256 bytes here).
std::string answer(const std::string& message) {
  return "msg=\"" + message + "\"\n" +
         R"(printf "\\$(printf %03o $((${#msg} + 1)))\\0\\0\\0\\0\\0\\0\\0%s\\n" "$msg")";
}

TEST_F(ChildTest, ACrashASlowChildAndARefusalAreTheFilesFault) {
  auto crashed = parse_in_child("f.h5", {.exe = script("crash", "kill -SEGV $$")});
  EXPECT_EQ(crashed.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(crashed.status().message(), "the parser crashed (signal 11) on this file");
  auto slow = parse_in_child(
      "f.h5", {.exe = script("slow", "exec sleep 10"), .timeout = std::chrono::milliseconds(200)});
  EXPECT_EQ(slow.status().message(), "the parser took longer than 200 ms on this file");
  auto refused = parse_in_child(
      "f.h5", {.exe = script("refuse", answer("error 2 attribute user is missing"))});
  EXPECT_EQ(refused.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(), "attribute user is missing");
  auto failed = parse_in_child("f.h5", {.exe = script("fail", "exit 3")});
  EXPECT_EQ(failed.status().message(), "the parser failed (exit 3) on this file");
  auto args = parse_in_child("f.h5", {.exe = script("args", answer("error 2 $1 $2 $3 $4"))});
  EXPECT_EQ(args.status().message(), "parse-record --serve --max-memory 2147483648");
  // A frame longer than any record within the limits is not read.
  auto huge = parse_in_child("f.h5", {.exe = script("huge", "printf xxxxxxxx; sleep 10")});
  EXPECT_EQ(huge.status().code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(huge.status().message(), "the parsed record is too large");
}

TEST_F(ChildTest, AParserThatCannotStartIsTheServersFault) {
  auto missing = parse_in_child("f.h5", {.exe = (dir_ / "none").string()});
  EXPECT_EQ(missing.status().code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace vigil::records
