// Small builders for the JSON schemas in route specs (the OpenAPI document), shared by every
// api/ file.
#pragma once

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
// An application/problem+json response of a route spec.
net::ResponseSpec problem_response(int status, const char* description);
// ?limit= and ?cursor=
std::vector<net::ParamSpec> page_params();

}  // namespace vigil::api
