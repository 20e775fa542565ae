#include "registry/model_registry.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "core/ids.h"
#include "core/names.h"
#include "core/strings.h"

namespace vigil::registry {

using P = std::vector<store::Value>;

namespace {

constexpr const char* kModelColumns =
    "id, name, kind, created_at, created_by, visibility, owner_id, description";
constexpr const char* kVersionColumns =
    "model_id, version, sha256, size, metadata, created_at, created_by";

store::Value user_or_null(int64_t id) {
  store::Value v;
  if (id > 0) v = id;
  return v;
}

Model row_to_model(const store::Rows& rows, size_t i) {
  Model m;
  m.id = rows.get_int(i, 0);
  m.name = rows.get_text(i, 1);
  m.kind = rows.get_text(i, 2);
  m.created_at = rows.get_text(i, 3);
  m.created_by = rows.get_int(i, 4);
  m.access.is_private = rows.get_text(i, 5) == "private";
  m.access.owner_id = rows.get_int(i, 6);
  m.access.description = rows.get_text(i, 7);
  return m;
}

ModelVersion row_to_version(const Model& m, const store::Rows& rows, size_t i) {
  ModelVersion v;
  v.model_id = rows.get_int(i, 0);
  v.model = m.name;
  v.kind = m.kind;
  v.version = rows.get_int(i, 1);
  v.sha256 = rows.get_text(i, 2);
  v.size = rows.get_int(i, 3);
  v.metadata = rows.get_text(i, 4);
  v.created_at = rows.get_text(i, 5);
  v.created_by = rows.get_int(i, 6);
  for (const auto& [alias, version] : m.aliases) {
    if (version == v.version) v.aliases.push_back(alias);
  }
  v.access = m.access;
  return v;
}

// The model row plus its aliases and latest version, in one session.
Expected<Model> load_model(store::Session& s, std::string_view name) {
  auto rows =
      s.query(std::string("SELECT ") + kModelColumns + " FROM models WHERE lower(name) = lower($1)",
              P{std::string(name)});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return not_found("no model named " + std::string(name));
  Model m = row_to_model(*rows, 0);
  auto latest = s.query("SELECT MAX(version) FROM model_versions WHERE model_id = $1", P{m.id});
  if (!latest.ok()) return latest.status();
  m.latest_version = latest->get_int(0, 0);
  auto aliases = s.query("SELECT alias, version FROM model_aliases WHERE model_id = $1", P{m.id});
  if (!aliases.ok()) return aliases.status();
  for (size_t i = 0; i < aliases->size(); ++i) {
    m.aliases[aliases->get_text(i, 0)] = aliases->get_int(i, 1);
  }
  auto readers =
      s.query("SELECT user_id FROM model_readers WHERE model_id = $1 ORDER BY user_id", P{m.id});
  if (!readers.ok()) return readers.status();
  for (size_t i = 0; i < readers->size(); ++i) m.access.readers.push_back(readers->get_int(i, 0));
  return m;
}

Expected<ModelVersion> load_version(store::Session& s, const Model& m, int64_t version) {
  auto rows = s.query(std::string("SELECT ") + kVersionColumns +
                          " FROM model_versions WHERE model_id = $1 AND version = $2",
                      P{m.id, version});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) {
    return not_found("model " + m.name + " has no version " + std::to_string(version));
  }
  return row_to_version(m, *rows, 0);
}

Status alias_name_error(std::string_view alias) {
  if (auto why = name_error(alias)) return invalid_field("alias", *why);
  if (parse_version_number(alias) || name_key(alias) == "latest" ||
      alias.find_first_not_of("0123456789") == std::string_view::npos) {
    return invalid_field("alias", "must not be a number or \"latest\" (those name versions)");
  }
  return {};
}

}  // namespace

bool ModelAccess::may_read(int64_t user_id, std::string_view role) const {
  if (!is_private || role == "admin" || role == "watchdog") return true;
  if (user_id > 0 && user_id == owner_id) return true;
  return std::find(readers.begin(), readers.end(), user_id) != readers.end();
}

std::optional<int64_t> parse_version_number(std::string_view s) {
  if (s.empty() || s.size() > 18 || s[0] == '0') return std::nullopt;
  return parse_int<int64_t>(s, 1);
}

ModelRegistry::ModelRegistry(store::Database& db, ArtifactStore& artifacts)
    : db_(db), artifacts_(artifacts) {}

void ModelRegistry::add_in_use_check(InUseCheck check) {
  in_use_checks_.push_back(std::move(check));
}

Expected<ModelVersion> ModelRegistry::add_version(std::string_view name,
                                                  std::optional<std::string> kind,
                                                  std::string_view bytes, std::string metadata,
                                                  int64_t created_by) {
  if (auto why = name_error(name)) return invalid_field("name", *why);
  if (kind && kind->empty()) kind.reset();
  const std::string sha = sha256_hex(bytes);
  ModelVersion out;
  // A concurrent first upload of the same new model loses the unique index race: retry once,
  // when the model exists.
  for (int attempt = 0; attempt < 2; ++attempt) {
    Status s = db_.write([&](store::Session& session) -> Status {
      auto model = load_model(session, name);
      if (!model.ok() && model.status().code() != ErrorCode::kNotFound) return model.status();
      Model m;
      if (model.ok()) {
        m = std::move(*model);
        if (kind && *kind != m.kind) {
          return conflict("model " + m.name + " is of kind " + m.kind + ", not " + *kind);
        }
      } else {
        if (!kind) return invalid_field("kind", "required for a new model");
        std::string now = now_rfc3339();
        auto rows = session.query(
            std::string("INSERT INTO models (name, kind, next_version, created_at, created_by) "
                        "VALUES ($1, $2, 1, $3, $4) RETURNING ") +
                kModelColumns,
            P{std::string(name), *kind, now, user_or_null(created_by)});
        if (!rows.ok()) return rows.status();
        m = row_to_model(*rows, 0);
      }
      // Taking the number first locks the model row (PostgreSQL), so concurrent uploads to one
      // model get consecutive numbers instead of colliding.
      auto next = session.query(
          "UPDATE models SET next_version = next_version + 1 WHERE id = $1 "
          "RETURNING next_version - 1",
          P{m.id});
      if (!next.ok()) return next.status();
      int64_t version = next->get_int(0, 0);
      VIGIL_RETURN_IF_ERROR(artifacts_.put(session, sha, bytes));
      std::string now = now_rfc3339();
      auto n = session.exec(std::string("INSERT INTO model_versions (") + kVersionColumns +
                                ") VALUES ($1, $2, $3, $4, $5, $6, $7)",
                            P{m.id, version, sha, static_cast<int64_t>(bytes.size()), metadata, now,
                              user_or_null(created_by)});
      if (!n.ok()) return n.status();
      out = ModelVersion{.model_id = m.id,
                         .model = m.name,
                         .kind = m.kind,
                         .version = version,
                         .sha256 = sha,
                         .size = static_cast<int64_t>(bytes.size()),
                         .metadata = metadata,
                         .created_at = now,
                         .created_by = created_by > 0 ? created_by : 0,
                         .aliases = {}};
      return {};
    });
    if (s.ok()) break;
    if (s.code() == ErrorCode::kAlreadyExists && attempt == 0) continue;
    return s;
  }
  if (Status c = artifacts_.cache_locally(sha, bytes); !c.ok()) {
    // The store has the bytes; this node fetches them again when it needs them.
    spdlog::warn("registry: {}", c.message());
  }
  return out;
}

Expected<std::vector<Model>> ModelRegistry::list(int limit, std::optional<int64_t> after_id,
                                                 std::optional<Viewer> viewer) {
  std::vector<Model> out;
  Status s = db_.read([&](store::Session& session) -> Status {
    std::string sql = std::string("SELECT ") + kModelColumns + " FROM models WHERE 1 = 1";
    P params;
    if (after_id) {
      params.emplace_back(*after_id);
      sql += " AND lower(name) > (SELECT lower(name) FROM models WHERE id = $" +
             std::to_string(params.size()) + ")";
    }
    if (viewer && viewer->role != "admin" && viewer->role != "watchdog") {
      params.emplace_back(viewer->user_id);
      const std::string u = "$" + std::to_string(params.size());
      sql += " AND (visibility = 'public' OR owner_id = " + u +
             " OR EXISTS (SELECT 1 FROM model_readers r WHERE r.model_id = models.id AND "
             "r.user_id = " +
             u + "))";
    }
    params.emplace_back(int64_t{limit});
    sql += " ORDER BY lower(name) LIMIT $" + std::to_string(params.size());
    auto rows = session.query(sql, params);
    if (!rows.ok()) return rows.status();
    for (size_t i = 0; i < rows->size(); ++i) {
      auto m = load_model(session, rows->get_text(i, 1));
      if (!m.ok()) return m.status();
      out.push_back(std::move(*m));
    }
    return {};
  });
  if (!s.ok()) return s;
  return out;
}

Expected<Model> ModelRegistry::get(std::string_view name) {
  if (!is_valid_name(name)) return not_found("no model named " + std::string(name));
  Model out;
  Status s = db_.read([&](store::Session& session) -> Status {
    auto m = load_model(session, name);
    if (!m.ok()) return m.status();
    out = std::move(*m);
    return {};
  });
  if (!s.ok()) return s;
  return out;
}

Expected<std::vector<ModelVersion>> ModelRegistry::versions(const Model& m) {
  auto rows = db_.query(std::string("SELECT ") + kVersionColumns +
                            " FROM model_versions WHERE model_id = $1 ORDER BY version",
                        P{m.id});
  if (!rows.ok()) return rows.status();
  std::vector<ModelVersion> out;
  for (size_t i = 0; i < rows->size(); ++i) out.push_back(row_to_version(m, *rows, i));
  return out;
}

Expected<ModelVersion> ModelRegistry::resolve(std::string_view name, std::string_view ref) {
  if (!is_valid_name(name)) return not_found("no model named " + std::string(name));
  ModelVersion out;
  Status s = db_.read([&](store::Session& session) -> Status {
    auto m = load_model(session, name);
    if (!m.ok()) return m.status();
    int64_t version = 0;
    if (auto n = parse_version_number(ref)) {
      version = *n;
    } else if (name_key(ref) == "latest") {
      if (m->latest_version == 0) return not_found("model " + m->name + " has no versions");
      version = m->latest_version;
    } else {
      auto it = m->aliases.find(name_key(ref));
      if (it == m->aliases.end()) {
        return not_found("model " + m->name + " has no version or alias " + std::string(ref));
      }
      version = it->second;
    }
    auto v = load_version(session, *m, version);
    if (!v.ok()) return v.status();
    out = std::move(*v);
    return {};
  });
  if (!s.ok()) return s;
  return out;
}

Expected<std::vector<AliasMove>> ModelRegistry::alias_history(const Model& m, int limit) {
  auto rows = db_.query(
      "SELECT id, alias, from_version, to_version, at, by_user FROM model_alias_history "
      "WHERE model_id = $1 ORDER BY id DESC LIMIT $2",
      P{m.id, int64_t{limit}});
  if (!rows.ok()) return rows.status();
  std::vector<AliasMove> out;
  for (size_t i = 0; i < rows->size(); ++i) {
    out.push_back({.id = rows->get_int(i, 0),
                   .alias = rows->get_text(i, 1),
                   .from_version = rows->get_int(i, 2),
                   .to_version = rows->get_int(i, 3),
                   .at = rows->get_text(i, 4),
                   .by = rows->get_int(i, 5)});
  }
  return out;
}

Expected<AliasMove> ModelRegistry::set_alias(std::string_view name, std::string_view alias,
                                             int64_t version, int64_t by) {
  VIGIL_RETURN_IF_ERROR(alias_name_error(alias));
  if (!is_valid_name(name)) return not_found("no model named " + std::string(name));
  const std::string key = name_key(alias);
  AliasMove move;
  Status s = db_.write([&](store::Session& session) -> Status {
    auto m = load_model(session, name);
    if (!m.ok()) return m.status();
    auto v = load_version(session, *m, version);
    if (!v.ok()) return v.status();
    auto it = m->aliases.find(key);
    std::string now = now_rfc3339();
    if (it != m->aliases.end()) {
      move.from_version = it->second;
      auto n = session.exec(
          "UPDATE model_aliases SET version = $1, updated_at = $2, updated_by = $3 "
          "WHERE model_id = $4 AND alias = $5",
          P{version, now, user_or_null(by), m->id, key});
      if (!n.ok()) return n.status();
    } else {
      auto n = session.exec(
          "INSERT INTO model_aliases (model_id, alias, version, updated_at, updated_by) "
          "VALUES ($1, $2, $3, $4, $5)",
          P{m->id, key, version, now, user_or_null(by)});
      if (!n.ok()) return n.status();
    }
    store::Value from;
    if (move.from_version) from = move.from_version;
    auto h = session.query(
        "INSERT INTO model_alias_history (model_id, alias, from_version, to_version, at, by_user) "
        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        P{m->id, key, from, version, now, user_or_null(by)});
    if (!h.ok()) return h.status();
    move.id = h->get_int(0, 0);
    move.alias = key;
    move.to_version = version;
    move.at = now;
    move.by = by > 0 ? by : 0;
    return {};
  });
  if (!s.ok()) return s;
  return move;
}

Status ModelRegistry::delete_version(std::string_view name, int64_t version) {
  if (!is_valid_name(name)) return not_found("no model named " + std::string(name));
  // Outside checks first (they may read other modules' tables); the transaction re-checks
  // what the registry owns.
  auto model = get(name);
  if (!model.ok()) return model.status();
  if (model->kind == "blank" && name_key(model->name) == "blank" && version == 1) {
    return conflict("the built-in blank model cannot be deleted");
  }
  for (const auto& check : in_use_checks_) {
    auto reason = check(model->id, model->name, version);
    if (!reason.ok()) return reason.status();
    if (*reason) return conflict(**reason);
  }
  return db_.write([&](store::Session& session) -> Status {
    auto m = load_model(session, name);
    if (!m.ok()) return m.status();
    auto v = load_version(session, *m, version);
    if (!v.ok()) return v.status();
    for (const auto& [alias, target] : m->aliases) {
      if (target == version) {
        return conflict("alias " + alias + " points at version " + std::to_string(version) +
                        "; move it first");
      }
    }
    auto n = session.exec("DELETE FROM model_versions WHERE model_id = $1 AND version = $2",
                          P{m->id, version});
    if (!n.ok()) return n.status();
    return artifacts_.release(session, v->sha256);
  });
}

Status ModelRegistry::ensure_blank_model() {
  auto existing = get("blank");
  if (existing.ok()) return {};
  if (existing.status().code() != ErrorCode::kNotFound) return existing.status();
  auto v = add_version("blank", std::string("blank"), "",
                       R"({"description":"Built in: always predicts 0 and never alarms."})", 0);
  if (!v.ok() && v.status().code() != ErrorCode::kAlreadyExists) return v.status();
  return {};
}

Expected<Model> ModelRegistry::set_access(std::string_view name, const AccessChange& c) {
  if (c.description && c.description->size() > 4096) {
    return invalid_field("description", "at most 4096 bytes");
  }
  if (c.readers && c.readers->size() > 1000) return invalid_field("readers", "at most 1000 users");
  Model out;
  Status st = db_.write([&](store::Session& s) -> Status {
    auto m = load_model(s, name);
    if (!m.ok()) return m.status();
    auto is_user = [&](int64_t id) -> Expected<bool> {
      auto r = s.query("SELECT 1 FROM users WHERE id = $1", P{id});
      if (!r.ok()) return r.status();
      return !r->empty();
    };
    if (c.owner_id && *c.owner_id != 0) {
      auto ok = is_user(*c.owner_id);
      if (!ok.ok()) return ok.status();
      if (!*ok) return invalid_field("owner", "no user " + std::to_string(*c.owner_id));
    }
    if (c.readers) {
      for (int64_t id : *c.readers) {
        auto ok = is_user(id);
        if (!ok.ok()) return ok.status();
        if (!*ok) return invalid_field("readers", "no user " + std::to_string(id));
      }
    }
    if (c.is_private) {
      VIGIL_RETURN_IF_ERROR(s.exec("UPDATE models SET visibility = $1 WHERE id = $2",
                                   P{std::string(*c.is_private ? "private" : "public"), m->id})
                                .status());
    }
    if (c.owner_id) {
      VIGIL_RETURN_IF_ERROR(s.exec("UPDATE models SET owner_id = $1 WHERE id = $2",
                                   P{user_or_null(*c.owner_id), m->id})
                                .status());
    }
    if (c.description) {
      VIGIL_RETURN_IF_ERROR(
          s.exec("UPDATE models SET description = $1 WHERE id = $2", P{*c.description, m->id})
              .status());
    }
    if (c.readers) {
      VIGIL_RETURN_IF_ERROR(
          s.exec("DELETE FROM model_readers WHERE model_id = $1", P{m->id}).status());
      std::set<int64_t> unique(c.readers->begin(), c.readers->end());
      for (int64_t id : unique) {
        VIGIL_RETURN_IF_ERROR(
            s.exec("INSERT INTO model_readers (model_id, user_id) VALUES ($1, $2)", P{m->id, id})
                .status());
      }
    }
    auto after = load_model(s, name);
    if (!after.ok()) return after.status();
    out = std::move(*after);
    return {};
  });
  if (!st.ok()) return st;
  return out;
}

}  // namespace vigil::registry
