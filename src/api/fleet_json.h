// JSON pieces the fleet's resources share (devices, rollouts, alarms): a model reference and
// the nullable text fields, as API.md writes them.
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <string>

#include "api/json_body.h"
#include "fleet/device_store.h"

namespace vigil::api {

// {"name","version"} or null.
inline boost::json::value model_ref_json(const std::optional<fleet::ModelRef>& m) {
  if (!m) return nullptr;
  return boost::json::object{{"name", m->name}, {"version", m->version}};
}

// The text, or null when it is empty (timestamps not set yet).
// A user id, or null for none (0).
inline boost::json::value user_or_null(int64_t id) {
  return id > 0 ? boost::json::value(id) : boost::json::value(nullptr);
}

inline boost::json::value text_or_null(const std::string& s) {
  return s.empty() ? boost::json::value(nullptr) : boost::json::value(s);
}

// A page of `items` turned into JSON by `to_json`, with the cursor of the last one (from `key`)
// when the page is full.
template <class T, class ToJson, class Key>
void respond_list(net::Exchange& ex, const std::vector<T>& items, int limit, ToJson to_json,
                  Key key) {
  boost::json::array out;
  out.reserve(items.size());
  for (const auto& item : items) out.push_back(to_json(item));
  std::optional<int64_t> next;
  if (static_cast<int>(items.size()) == limit && !items.empty()) next = key(items.back());
  respond_page(ex, std::move(out), next);
}

}  // namespace vigil::api
