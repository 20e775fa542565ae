// The JSON of the model registry's resources and their schemas (API.md "Model registry").
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <vector>

#include "net/http.h"
#include "registry/model_registry.h"

namespace vigil::api {

boost::json::value version_json(const registry::ModelVersion& v);
boost::json::object model_json(const registry::Model& m);
// A model with its versions and alias history (GET /models/{name}).
boost::json::object model_detail_json(const registry::Model& m,
                                      const std::vector<registry::ModelVersion>& versions,
                                      const std::vector<registry::AliasMove>& history);
boost::json::object alias_move_json(const registry::AliasMove& move);

// Whether the caller may read a model with this access (API.md "visibility"); answers 403
// naming the model and returns false when not.
bool check_model_access(net::Exchange& ex, const registry::ModelAccess& access,
                        std::string_view model);

boost::json::value version_schema();
boost::json::value model_schema();
// model_schema() with versions and alias_history (GET /models/{name}).
boost::json::value model_detail_schema();

}  // namespace vigil::api
