// Small builders for the JSON schemas in route specs (the OpenAPI document), shared by every
// api/ file.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <initializer_list>
#include <utility>
#include <vector>

#include "net/router.h"

namespace vigil::api {

// {"items":[item…],"next_cursor":string|null}
boost::json::value list_schema(boost::json::value item);
// An object whose properties have the given JSON types; `required` names the required ones.
boost::json::value object_schema(std::initializer_list<std::pair<const char*, const char*>> props,
                                 std::initializer_list<const char*> required = {});
// {name, version} or null: a model a device runs, an alarm is about, a rollout targets.
boost::json::value model_ref_schema();
// Marks every property of an object schema as required (answers that always carry them all).
boost::json::value all_required(boost::json::value schema);
// The body of a create (with a required "name": 1-64 of [A-Za-z0-9._-]) or of a change (without
// it) of a named thing: an object of `props`, nothing else.
boost::json::value named_request_schema(boost::json::object props, bool create);
// An application/problem+json response of a route spec.
net::ResponseSpec problem_response(int status, const char* description);
// ?limit= and ?cursor=
std::vector<net::ParamSpec> page_params();

}  // namespace vigil::api
