// JSON text for people as well as parsers: like boost::json::serialize, except that numbers
// with a fraction are written in their shortest round-trip decimal form ("0.3", "1.5",
// "123456.789") rather than boost's scientific form ("3E-1"), and non-finite ones as null. Every
// JSON answer of the API goes through it (credits, metadata bands, thresholds read as written).
#pragma once

#include <boost/json/value.hpp>

#include <string>

namespace vigil {

std::string json_text(const boost::json::value& v);
// Appends a float as JSON: shortest round-trip digits; NaN and infinities as null.
void append_json_float(std::string& out, float v);
void append_json_text(std::string& out, const boost::json::value& v);

}  // namespace vigil
