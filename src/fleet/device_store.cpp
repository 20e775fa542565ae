#include "fleet/device_store.h"

#include "core/ids.h"
#include "core/names.h"

namespace vigil::fleet {
namespace {

using store::Value;

constexpr std::string_view kColumns =
    "id, name, type, model, model_version, running_model, running_version, previous_model, "
    "previous_version, last_seen, created_at, created_by, online_until";

Device device_at(const store::Rows& rows, size_t r) {
  Device d;
  d.id = rows.get_int(r, 0);
  d.name = rows.get_text(r, 1);
  d.type = rows.get_text(r, 2);
  d.model = model_at(rows, r, 3);
  d.running = model_at(rows, r, 5);
  d.previous = model_at(rows, r, 7);
  d.last_seen = rows.get_text(r, 9);
  d.created_at = rows.get_text(r, 10);
  d.created_by = rows.get_int(r, 11);
  d.online_until = rows.get_text(r, 12);
  return d;
}

// Fills each device's labels with one query.
Status load_labels(store::Session& s, std::vector<Device>& devices) {
  if (devices.empty()) return {};
  std::string sql = "SELECT device_id, key, value FROM device_labels WHERE device_id IN (";
  std::vector<Value> params;
  for (size_t i = 0; i < devices.size(); ++i) {
    sql += (i ? ", $" : "$") + std::to_string(i + 1);
    params.emplace_back(devices[i].id);
  }
  sql += ")";
  auto rows = s.query(sql, params);
  if (!rows.ok()) return rows.status();
  std::map<int64_t, Device*> by_id;
  for (auto& d : devices) by_id[d.id] = &d;
  for (size_t r = 0; r < rows->size(); ++r) {
    by_id[rows->get_int(r, 0)]->labels[rows->get_text(r, 1)] = rows->get_text(r, 2);
  }
  return {};
}

Status write_labels(store::Session& s, int64_t device_id, const Labels& labels) {
  Value id(device_id);
  VIGIL_RETURN_IF_ERROR(
      s.exec("DELETE FROM device_labels WHERE device_id = $1", std::span(&id, 1)).status());
  for (const auto& [k, v] : labels) {
    std::vector<Value> p{device_id, k, v};
    VIGIL_RETURN_IF_ERROR(
        s.exec("INSERT INTO device_labels (device_id, key, value) VALUES ($1, $2, $3)", p)
            .status());
  }
  return {};
}

Expected<Device> get_in(store::Session& s, std::string_view name, std::string_view suffix = {}) {
  std::vector<Value> p{name_key(name)};
  auto rows = s.query("SELECT " + std::string(kColumns) + " FROM devices WHERE lower(name) = $1" +
                          std::string(suffix),
                      p);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return not_found("no device named " + std::string(name));
  std::vector<Device> one{device_at(*rows, 0)};
  VIGIL_RETURN_IF_ERROR(load_labels(s, one));
  return std::move(one[0]);
}

}  // namespace

Status DeviceStore::validate_model(const ModelRef& m) {
  if (auto why = name_error(m.name)) return invalid_field("model", "the model name " + *why);
  if (m.version < 1) return invalid_field("version", "must be a version number from 1");
  return {};
}

Status DeviceStore::validate_name(std::string_view name, std::string_view field) {
  if (auto why = name_error(name)) return invalid_field(std::string(field), *why);
  return {};
}

Status DeviceStore::validate_type(std::string_view type) {
  if (type.empty() || type.size() > 32) return invalid_field("type", "must be 1-32 characters");
  for (char c : type) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
      return invalid_field("type", "must be lower-case letters, digits, '_' or '-'");
    }
  }
  return {};
}

Status DeviceStore::validate_labels(const Labels& labels) {
  if (labels.size() > kMaxLabels) {
    return invalid_field("labels", "at most " + std::to_string(kMaxLabels) + " labels");
  }
  for (const auto& [k, v] : labels) {
    if (auto why = name_error(k)) return invalid_field("labels", "the key '" + k + "' " + *why);
    if (v.size() > kMaxLabelValue) {
      return invalid_field("labels", "the value of '" + k + "' is over " +
                                         std::to_string(kMaxLabelValue) + " bytes");
    }
  }
  return {};
}

Expected<Device> DeviceStore::get_for_update(store::Session& s, store::Dialect dialect,
                                             std::string_view name) {
  return get_in(s, name, dialect == store::Dialect::kPostgres ? " FOR UPDATE" : "");
}

Expected<Device> DeviceStore::create(std::string_view name, std::string_view type,
                                     const Labels& labels, int64_t created_by) {
  VIGIL_RETURN_IF_ERROR(validate_name(name));
  VIGIL_RETURN_IF_ERROR(validate_type(type));
  VIGIL_RETURN_IF_ERROR(validate_labels(labels));
  auto created = store::write_returning<Device>(db_, [&](store::Session& s) -> Expected<Device> {
    std::vector<Value> p{std::string(name), std::string(type), now_rfc3339(),
                         created_by > 0 ? Value(created_by) : Value(std::monostate{})};
    auto rows = s.query(
        "INSERT INTO devices (name, type, created_at, created_by) VALUES ($1, $2, $3, $4) "
        "RETURNING id",
        p);
    if (!rows.ok()) return rows.status();
    VIGIL_RETURN_IF_ERROR(write_labels(s, rows->get_int(0, 0), labels));
    return get_in(s, name);
  });
  if (created.status().code() == ErrorCode::kAlreadyExists) {
    return already_exists("a device named " + std::string(name) + " exists");
  }
  return created;
}

Expected<Device> DeviceStore::get(std::string_view name) {
  return store::read_returning<Device>(db_, [&](store::Session& s) { return get_in(s, name); });
}

Expected<std::vector<Device>> DeviceStore::list(const DeviceFilter& f) {
  if (f.limit < 1 || f.limit > 1000) return invalid_field("limit", "must be 1-1000");
  std::string sql = "SELECT " + std::string(kColumns) + " FROM devices d WHERE id > $1";
  std::vector<Value> p{f.after_id};
  auto bind = [&](Value v) {
    p.push_back(std::move(v));
    return "$" + std::to_string(p.size());
  };
  if (f.type) sql += " AND type = " + bind(*f.type);
  if (f.model) sql += " AND lower(model) = " + bind(name_key(*f.model));
  if (f.version) sql += " AND model_version = " + bind(*f.version);
  if (f.online) {
    const std::string now = bind(now_rfc3339());
    sql += *f.online ? " AND online_until > " + now
                     : " AND (online_until IS NULL OR online_until <= " + now + ")";
  }
  for (const auto& [k, v] : f.labels) {
    sql += " AND EXISTS (SELECT 1 FROM device_labels l WHERE l.device_id = d.id AND l.key = " +
           bind(k) + " AND l.value = " + bind(v) + ")";
  }
  sql += " ORDER BY id LIMIT " + bind(int64_t{f.limit});
  std::vector<Device> out;
  VIGIL_RETURN_IF_ERROR(db_.read([&](store::Session& s) -> Status {
    auto rows = s.query(sql, p);
    if (!rows.ok()) return rows.status();
    for (size_t r = 0; r < rows->size(); ++r) out.push_back(device_at(*rows, r));
    return load_labels(s, out);
  }));
  return out;
}

Expected<Device> DeviceStore::update(std::string_view name, const DeviceUpdate& u) {
  if (u.type) VIGIL_RETURN_IF_ERROR(validate_type(*u.type));
  if (u.labels) VIGIL_RETURN_IF_ERROR(validate_labels(*u.labels));
  return store::write_returning<Device>(db_, [&](store::Session& s) -> Expected<Device> {
    auto d = get_for_update(s, db_.dialect(), name);
    if (!d.ok()) return d.status();
    if (u.type) {
      std::vector<Value> p{*u.type, d->id};
      VIGIL_RETURN_IF_ERROR(s.exec("UPDATE devices SET type = $1 WHERE id = $2", p).status());
    }
    if (u.labels) VIGIL_RETURN_IF_ERROR(write_labels(s, d->id, *u.labels));
    return get_in(s, name);
  });
}

Status DeviceStore::remove(std::string_view name) {
  std::vector<Value> p{name_key(name)};
  auto n = db_.exec("DELETE FROM devices WHERE lower(name) = $1", p);
  if (!n.ok()) return n.status();
  if (*n == 0) return not_found("no device named " + std::string(name));
  return {};
}

Expected<std::optional<std::string>> DeviceStore::device_on(std::string_view model,
                                                            int64_t version) {
  std::vector<Value> p{name_key(model), version};
  auto rows = db_.query(
      "SELECT name FROM devices WHERE (lower(model) = $1 AND model_version = $2) OR "
      "(lower(running_model) = $1 AND running_version = $2) ORDER BY id LIMIT 1",
      p);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows->get_text(0, 0));
}

Status DeviceStore::report_running(int64_t device_id, const std::optional<ModelRef>& running,
                                   std::string_view seen_at) {
  std::vector<Value> p{model_name_or_null(running), model_version_or_null(running),
                       std::string(seen_at), device_id};
  auto n = db_.exec(
      "UPDATE devices SET running_model = $1, running_version = $2, last_seen = $3 WHERE id = $4",
      p);
  if (!n.ok()) return n.status();
  if (*n == 0) return not_found("no device with id " + std::to_string(device_id));
  return {};
}

}  // namespace vigil::fleet
