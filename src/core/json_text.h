// JSON text for people as well as parsers: like boost::json::serialize, except that numbers
// with a fraction are written in their shortest round-trip decimal form ("0.3", "1.5",
// "123456.789") rather than boost's scientific form ("3E-1"), and non-finite ones as null. Every
// JSON answer of the API goes through it (credits, metadata bands, thresholds read as written).
#pragma once

#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <string_view>
#include <system_error>

namespace vigil {

std::string json_text(const boost::json::value& v);
// Appends a float as JSON: shortest round-trip digits; NaN and infinities as null.
void append_json_float(std::string& out, float v);
void append_json_text(std::string& out, const boost::json::value& v);

// boost::json::parse, except that every number with a fraction or an exponent is read correctly
// rounded (std::from_chars on its text): Boost.JSON 1.81 (Debian 12's) reads a long mantissa up
// to 1 ulp off ("8.888888888888889E77" becomes 0x1.eb4d520edc666p+258, not …665p+258), so a
// double sent in its shortest form — by a client, a device, the record parser child — would not
// arrive as itself. What boost would read as out of range keeps boost's value. On malformed
// input: null, and `ec` says why (boost's errors).
boost::json::value parse_json(std::string_view text, boost::system::error_code& ec,
                              const boost::json::parse_options& options = {});
boost::json::value parse_json(std::string_view text, std::error_code& ec,
                              const boost::json::parse_options& options = {});

}  // namespace vigil
