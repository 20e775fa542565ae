// Rows of named feature values ({"name": number|null, …}) as a model's dense matrix, and a
// prediction written back with names: what /api/v1/predict and the task workers share.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "serving/model_server.h"

namespace vigil::serving {

// The rows of a request, each an object of feature name → number or null; `doc` keeps them
// alive.
struct NamedRows {
  std::shared_ptr<const boost::json::value> doc;
  std::vector<const boost::json::object*> rows;
  bool single = false;  // sent as {features:{…}}: errors name "features", not "rows[i]"
};

// `rows` (a member of `doc`) as NamedRows: a non-empty array of objects, at most max_rows.
// kInvalidArgument naming "rows" otherwise.
Expected<NamedRows> named_rows(std::shared_ptr<const boost::json::value> doc,
                               const boost::json::value& rows, size_t max_rows);

struct FieldIssue {
  std::string field;  // "rows[3].age"
  std::string message;
};

// The rows as the model's matrix (missing features NaN); the first 20 issues, each naming its
// row and feature, when a name is unknown or a value not a number.
std::vector<float> to_matrix(const NamedRows& in, const ResolvedModel& model,
                             std::vector<FieldIssue>& issues);

// {"model","version","predictions":[…],"contributions"?:[{feature: value, …, "_bias"}]}
std::string prediction_json(const ResolvedModel& m, const Prediction& p, size_t n);

// The interpretation bands of a version's metadata: [{"below": x, "label", "color"}, …, the last
// without "below"]; a value takes the first band it is below.
struct Band {
  std::optional<double> below;
  std::string label, color;
};
std::vector<Band> bands_of(const std::string& metadata_json);
const Band* band_for(const std::vector<Band>& bands, double value);

// A task's result: {"model","version","rows":[{"prediction": x | [..], "band": {label,color} |
// null, "contributions"?: {…}}]}; the band of a multi-output row is null.
std::string task_result_json(const ResolvedModel& m, const Prediction& p, size_t n);

}  // namespace vigil::serving
