// The OpenAPI 3.1 document, generated from the route table: every route's spec, its path
// parameters, the problem responses common to all routes, and the security schemes.
#pragma once

#include <boost/json/value.hpp>

#include <string>

#include "net/router.h"

namespace vigil::api {

boost::json::value build_openapi(const net::Router& router, const std::string& version);

// Common schemas for route specs.
boost::json::value problem_schema_ref();

}  // namespace vigil::api
