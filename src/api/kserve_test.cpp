#include "api/kserve.h"

#include <gtest/gtest.h>

#include <cmath>

namespace vigil::api {
namespace {

// A failed parse as the API answers it: 400 for kMalformed, 422 for kInvalidArgument.
struct Error {
  int status = 0;
  std::string field;
  std::string message;
};

std::optional<V2InferRequest> parse_with_header(std::string_view body, Error& e,
                                                std::optional<size_t> header,
                                                size_t max_rows = 100) {
  auto r = parse_v2_infer(body, max_rows, header);
  if (r.ok()) return std::move(*r);
  e = {r.status().code() == ErrorCode::kMalformed ? 400 : 422, r.status().field(),
       r.status().message()};
  EXPECT_TRUE(r.status().code() == ErrorCode::kMalformed ||
              r.status().code() == ErrorCode::kInvalidArgument);
  return std::nullopt;
}

std::optional<V2InferRequest> parse(std::string_view body, Error& e, size_t max_rows = 100) {
  return parse_with_header(body, e, std::nullopt, max_rows);
}

TEST(KServe, ParsesFlatAndNestedDataWithMissingValues) {
  Error e;
  auto r = parse(R"({"id":"x","inputs":[{"name":"in","shape":[2,2],"datatype":"FP64",
                     "data":[[1,2.5],[null,-4]]}],"parameters":{"explain":true}})",
                 e);
  ASSERT_TRUE(r) << e.message;
  EXPECT_EQ(r->id, "x");
  EXPECT_EQ(r->rows, 2u);
  EXPECT_EQ(r->cols, 2u);
  EXPECT_TRUE(r->explain);
  ASSERT_EQ(r->data.size(), 4u);
  EXPECT_EQ(r->data[1], 2.5f);
  EXPECT_TRUE(std::isnan(r->data[2]));
  EXPECT_EQ(r->data[3], -4.0f);
}

// The parser streams inputs[0].data into floats; the rest of the document is a DOM as before.
TEST(KServe, DataIsFoundWhereverItsMembersStand) {
  Error e;
  // Members in any order; a key with an escape; "data" elsewhere is just a member.
  auto r = parse(R"({"parameters":{"data":[true]},"inputs":[{"d\u0061ta":[1,[2,null]],
                     "datatype":"INT64","shape":[1,3],"name":"x","parameters":{"data":"no"}}],
                     "id":"late"})",
                 e);
  ASSERT_TRUE(r) << e.field << ": " << e.message;
  EXPECT_EQ(r->id, "late");
  ASSERT_EQ(r->data.size(), 3u);
  EXPECT_EQ(r->data[0], 1.0f);
  EXPECT_EQ(r->data[1], 2.0f);
  EXPECT_TRUE(std::isnan(r->data[2]));
  // A repeated member: the last one counts, as in a DOM.
  r = parse(R"({"inputs":[{"shape":[1,2],"datatype":"FP32","data":[9],"data":[1e3,-2.5]}]})", e);
  ASSERT_TRUE(r) << e.message;
  EXPECT_EQ(r->data, (std::vector<float>{1000.0f, -2.5f}));
  // Big integers and doubles become floats.
  r = parse(R"({"inputs":[{"shape":[1,2],"datatype":"FP64","data":[18446744073709551615,1e-3]}]})",
            e);
  ASSERT_TRUE(r) << e.message;
  EXPECT_EQ(r->data[0], 18446744073709551615.0f);
  EXPECT_EQ(r->data[1], 1e-3f);
}

TEST(KServe, BadDataIsReportedAfterTheOtherMembers) {
  struct Case {
    const char* body;
    int status;
    const char* field;
    const char* message;  // a part of it
  };
  for (const auto& c : std::vector<Case>{
           {R"({"inputs":[{"shape":[1,3],"datatype":"FP32","data":[1,{"a":[2]},3]}]})", 422,
            "inputs[0].data", "value 1 is not a number or null"},
           {R"({"inputs":[{"shape":[1,3],"datatype":"FP32","data":[1,2,"3"]}]})", 422,
            "inputs[0].data", "value 2 is not a number"},
           {R"({"inputs":[{"shape":[1,1],"datatype":"FP32","data":[[[[[[[[[[1]]]]]]]]]]}]})", 422,
            "inputs[0].data", "nested too deeply"},
           {R"({"id":5,"inputs":[{"shape":[1,1],"datatype":"FP32","data":[true]}]})", 422, "id",
            "string"},
           {R"({"inputs":[{"shape":[1,1],"datatype":"FP16","data":[true]}]})", 422,
            "inputs[0].datatype", "FP16"},
           {R"({"inputs":[{"shape":[1,1],"datatype":"FP32","data":[1]},{"data":[2]}]})", 422,
            "inputs", "exactly one"},
           {R"({"inputs":[{"shape":[1,1],"datatype":"FP32","data":[1,2]}]})", 422, "inputs[0].data",
            "has 2 values; the shape says 1"},
           {R"({"inputs":[{"shape":[1,1],"datatype":"FP32","data":[true]}]} x)", 400, "",
            "not JSON"},
           {R"({"inputs":[{"shape":[1,1],"datatype":"FP32","data":[1,]}]})", 400, "", "not JSON"},
           // Values a float cannot hold, and fractions where the datatype is an integer.
           {R"({"inputs":[{"shape":[1,2],"datatype":"FP64","data":[1,1e999]}]})", 422,
            "inputs[0].data", "value 1 is out of range"},
           {R"({"inputs":[{"shape":[1,2],"datatype":"FP64","data":[-1e39,1]}]})", 422,
            "inputs[0].data", "value 0 is out of range"},
           {R"({"inputs":[{"shape":[1,2],"datatype":"INT32","data":[1,1.5]}]})", 422,
            "inputs[0].data", "value 1 is not an integer"},
           {R"({"inputs":[{"shape":[1,2],"datatype":"INT64","data":[2.25,1]}]})", 422,
            "inputs[0].data", "value 0 is not an integer"},
       }) {
    Error e;
    EXPECT_FALSE(parse(c.body, e)) << c.body;
    EXPECT_EQ(e.status, c.status) << c.body;
    EXPECT_EQ(e.field, c.field) << c.body;
    EXPECT_NE(e.message.find(c.message), std::string::npos) << c.body << " → " << e.message;
  }
}

TEST(KServe, ErrorsNameTheFieldAndStatus) {
  struct Case {
    const char* body;
    int status;
    const char* field;
  };
  for (
      const auto& c : std::vector<Case>{
          {"{", 400, ""},
          {"[]", 400, ""},
          {R"({"inputs":[]})", 422, "inputs"},
          {R"({"inputs":[{"shape":[1,1],"data":[1]}]})", 422, "inputs[0].datatype"},
          {R"({"inputs":[{"shape":[1],"datatype":"FP32","data":[1]}]})", 422, "inputs[0].shape"},
          {R"({"inputs":[{"shape":[1,-1],"datatype":"FP32","data":[]}]})", 422, "inputs[0].shape"},
          {R"({"inputs":[{"shape":[101,1],"datatype":"FP32","data":[]}]})", 422, "inputs[0].shape"},
          {R"({"inputs":[{"shape":[1,2],"datatype":"FP32","data":[1]}]})", 422, "inputs[0].data"},
          {R"({"inputs":[{"shape":[1,1],"datatype":"FP32","data":[1,2]}]})", 422, "inputs[0].data"},
          {R"({"inputs":[{"shape":[1,1],"datatype":"FP32","data":[true]}]})", 422,
           "inputs[0].data"},
          {R"({"inputs":[{"shape":[1,1],"datatype":"FP32","data":1}]})", 422, "inputs[0].data"},
          {R"({"id":5,"inputs":[{"shape":[1,1],"datatype":"FP32","data":[1]}]})", 422, "id"},
          {R"({"parameters":{"explain":"yes"},"inputs":[{"shape":[1,1],"datatype":"FP32","data":[1]}]})",
           422, "parameters.explain"},
      }) {
    Error e;
    EXPECT_FALSE(parse(c.body, e)) << c.body;
    EXPECT_EQ(e.status, c.status) << c.body;
    EXPECT_EQ(e.field, c.field) << c.body;
  }
}

TEST(KServe, BinaryTensorExtension) {
  std::string json =
      R"({"inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","parameters":{"binary_data_size":16}}]})";
  float values[4] = {1.5f, -2.0f, NAN, 4.25f};
  std::string body = json + std::string(reinterpret_cast<const char*>(values), sizeof values);
  Error e;
  auto r = parse_with_header(body, e, json.size());
  ASSERT_TRUE(r) << e.message;
  ASSERT_EQ(r->data.size(), 4u);
  EXPECT_EQ(r->data[0], 1.5f);
  EXPECT_TRUE(std::isnan(r->data[2]));
  EXPECT_EQ(r->data[3], 4.25f);

  double wide[4] = {1, 2, 3, 4};
  std::string json64 =
      R"({"inputs":[{"name":"x","shape":[2,2],"datatype":"FP64","parameters":{"binary_data_size":32}}]})";
  r = parse_with_header(json64 + std::string(reinterpret_cast<const char*>(wide), sizeof wide), e,
                        json64.size());
  ASSERT_TRUE(r) << e.message;
  EXPECT_EQ(r->data[3], 4.0f);

  // Sizes that do not add up, and a header length past the end.
  EXPECT_FALSE(parse_with_header(body.substr(0, body.size() - 1), e, json.size()));
  EXPECT_EQ(e.field, "inputs[0].parameters.binary_data_size");
  EXPECT_FALSE(parse_with_header(body, e, std::nullopt));  // binary_data_size without header
  EXPECT_FALSE(parse_with_header(body, e, body.size() + 1));
  EXPECT_EQ(e.status, 400);
}

TEST(KServe, ResponseHasShortestFloatsAndNullForNaN) {
  runtime::Tensor p{{2}, {0.1f, NAN}};
  runtime::Tensor c{{2, 2}, {1.5f, -2.0f, 0.0f, 3.25f}};
  EXPECT_EQ(v2_infer_response("m\"x", 3, "id", p, &c),
            R"({"model_name":"m\"x","model_version":"3","id":"id","outputs":[)"
            R"({"name":"predict","datatype":"FP32","shape":[2],"data":[0.1,null]},)"
            R"({"name":"contributions","datatype":"FP32","shape":[2,2],"data":[1.5,-2,0,3.25]}]})");
}

}  // namespace
}  // namespace vigil::api
