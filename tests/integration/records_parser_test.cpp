// The record parser's real child (`vigil parse-record`, records/record_parser.h) on the real
// files: the good ones come back whole, each bad one is refused with its reason, a tight memory
// cap is a refusal too, and none of it touches the calling process.
#include <gtest/gtest.h>

#include "records/record_parser.h"

namespace vigil {
namespace {

using records::ParserOptions;

std::string data(const std::string& name) {
  return std::string(VIGIL_TEST_DATA_DIR) + "/records/" + name;
}

TEST(RecordsParserTest, GoodFilesComeBackWholeFromTheChild) {
  for (const char* name : {"record_alice_night1.h5", "record_bob_night1.h5"}) {
    auto child = records::parse_in_child(data(name), {.exe = VIGIL_EXE});
    ASSERT_TRUE(child.ok()) << name << ": " << child.status().to_string();
    auto direct = records::read_record_file(data(name));
    ASSERT_TRUE(direct.ok());
    EXPECT_EQ(child->attributes, direct->attributes);
    EXPECT_EQ(child->hypnogram, direct->hypnogram);
    ASSERT_EQ(child->channels.size(), direct->channels.size());
    for (size_t i = 0; i < child->channels.size(); ++i) {
      EXPECT_EQ(child->channels[i].samples, direct->channels[i].samples) << name << " " << i;
    }
  }
}

TEST(RecordsParserTest, BadFilesAreRefusedWithTheirReason) {
  const ParserOptions o{.exe = VIGIL_EXE};
  EXPECT_EQ(records::parse_in_child(data("bad_missing_attrs.h5"), o).status().message(),
            "attribute device is missing");
  EXPECT_EQ(records::parse_in_child(data("bad_not_hdf5.h5"), o).status().message(),
            "not an HDF5 file");
  auto truncated = records::parse_in_child(data("bad_truncated.h5"), o);
  EXPECT_EQ(truncated.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(truncated.status().message().find("truncated"), std::string::npos);
#ifndef __SANITIZE_ADDRESS__  // (the child has no cap under AddressSanitizer: decision 0020)
  auto tight = records::parse_in_child(data("record_alice_night1.h5"),
                                       {.exe = VIGIL_EXE, .max_memory_bytes = 64 << 20});
  EXPECT_TRUE(tight.status().code() == ErrorCode::kInvalidArgument ||
              tight.status().code() == ErrorCode::kResourceExhausted)
      << "64 MiB of address space is too little to parse a 5 MB record: "
      << tight.status().to_string();
#endif
}

}  // namespace
}  // namespace vigil
