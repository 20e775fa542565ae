#include "api/users.h"

#include <boost/json.hpp>

#include "api/auth.h"
#include "api/handler.h"
#include "api/json_body.h"
#include "api/schemas.h"
#include "core/strings.h"

namespace vigil::api {
namespace json = boost::json;
using net::http::status;
using net::http::verb;

namespace {

class UserHandlers {
 public:
  explicit UserHandlers(UserDeps d) : d_(d) {}

  void list(const ExchangePtr& ex) const {
    auto page = read_page(*ex);
    if (!page) return;
    std::optional<std::string> username = ex->query("username");
    off_io(*d_.blocking, ex, [d = d_, page = *page, username](net::Exchange& ex) {
      auto users = d.accounts->list(page.cursor.value_or(0), page.limit, username);
      if (!users.ok()) return respond_status(ex, users.status());
      json::array items;
      for (const auto& u : users->items) items.push_back(user_json(u));
      respond_page(ex, std::move(items), users->next_after);
    });
  }

  void create(const ExchangePtr& ex) const {
    auto body = read_json_object(*ex);
    if (!body) return;
    Fields f(*body);
    std::string email = f.required_string("email");
    std::string password = f.required_string("password");
    std::string role = f.required_string("role");
    std::string name = f.optional_string("name").value_or("");
    std::optional<std::string> username = f.optional_string("username");
    f.reject_unknown({"email", "password", "role", "name", "username"});
    if (!f.ok()) return f.respond(*ex);
    off_io(*d_.blocking, ex, [d = d_, email, password, name, role, username](net::Exchange& ex) {
      auto user = d.accounts->create(email, password, name, role, username);
      if (!user.ok()) return respond_status(ex, user.status());
      respond_created(ex, "/api/v1/users/" + std::to_string(user->id), user_json(*user));
    });
  }

  void get(const ExchangePtr& ex) const {
    auto id = user_id(*ex);
    if (!id) return;
    off_io(*d_.blocking, ex, [d = d_, id = *id](net::Exchange& ex) {
      auto user = d.accounts->get(*ex.principal(), id);
      if (!user.ok()) return respond_status(ex, user.status());
      ex.respond_json(status::ok, user_json(*user));
    });
  }

  void update(const ExchangePtr& ex) const {
    auto id = user_id(*ex);
    if (!id) return;
    auto body = read_json_object(*ex);
    if (!body) return;
    Fields f(*body);
    auth::AccountChange change{.name = f.optional_string("name"),
                               .password = f.optional_string("password"),
                               .current_password = f.optional_string("current_password"),
                               .role = f.optional_string("role"),
                               .disabled = f.optional_bool("disabled"),
                               .username = f.nullable_string("username")};
    f.reject_unknown({"name", "password", "current_password", "role", "disabled", "username"});
    if (!f.ok()) return f.respond(*ex);
    off_io(*d_.blocking, ex, [d = d_, id = *id, change](net::Exchange& ex) {
      auto user = d.accounts->update(*ex.principal(), id, change);
      if (!user.ok()) return respond_status(ex, user.status());
      ex.respond_json(status::ok, user_json(*user));
    });
  }

  void remove(const ExchangePtr& ex) const {
    auto id = user_id(*ex);
    if (!id) return;
    off_io(*d_.blocking, ex, [d = d_, id = *id](net::Exchange& ex) {
      if (Status s = d.accounts->remove(id); !s.ok()) return respond_status(ex, s);
      ex.respond(net::HttpResponse{status::no_content, 11});
    });
  }

 private:
  // {id}: a positive integer, else no such user.
  static std::optional<int64_t> user_id(net::Exchange& ex) {
    auto id = parse_int<int64_t>(ex.param("id"), 1);
    if (!id) ex.respond_problem(status::not_found, "no such user");
    return id;
  }

  UserDeps d_;
};

// A request schema whose role is one of the roles (as the user schema says).
json::value with_roles(json::value schema) {
  schema.as_object()["properties"].as_object()["role"].as_object()["enum"] =
      json::array{"admin", "user", "watchdog"};
  return schema;
}

std::vector<net::ParamSpec> with_username_filter(std::vector<net::ParamSpec> params) {
  params.push_back({.name = "username",
                    .description = "Only the user with this username (compared ignoring case): "
                                   "one item, or none"});
  return params;
}

net::RouteSpec list_spec() {
  return {.operation_id = "listUsers",
          .summary = "List user accounts",
          .tag = "users",
          .action = "users.read",
          .params = with_username_filter(page_params()),
          .responses = {{200, "A page of users", list_schema(user_schema())}}};
}

net::RouteSpec create_spec() {
  return {.operation_id = "createUser",
          .summary = "Create a user account with a role",
          .tag = "users",
          .action = "users.write",
          .request_schema =
              with_roles(with_account_rules(object_schema({{"email", "string"},
                                                           {"password", "string"},
                                                           {"role", "string"},
                                                           {"name", "string"},
                                                           {"username", "string"}},
                                                          {"email", "password", "role"}))),
          .responses = {{201, "Created", user_schema()},
                        problem_response(409,
                                         "Email taken (in any case or Unicode normal form), or "
                                         "username taken (in any case; errors names username)")}};
}

net::RouteSpec get_spec() {
  return {.operation_id = "getUser",
          .summary = "One user account (admins: any; users: their own)",
          .tag = "users",
          .action = "users.self",
          .responses = {{200, "The user", user_schema()}}};
}

net::RouteSpec update_spec() {
  return {
      .operation_id = "updateUser",
      .summary =
          "Change a user: admins any field (username: null clears it); users their own name "
          "and password (with current_password). All fields change, or none.",
      .tag = "users",
      .action = "users.self",
      .request_schema = with_roles(with_account_rules(object_schema({{"name", "string"},
                                                                     {"password", "string"},
                                                                     {"current_password", "string"},
                                                                     {"role", "string"},
                                                                     {"disabled", "boolean"},
                                                                     {"username", "string"}}))),
      .responses = {{200, "The changed user", user_schema()},
                    problem_response(409,
                                     "Would leave no active admin, or the username is taken (in "
                                     "any case; errors names username)")}};
}

net::RouteSpec remove_spec() {
  return {.operation_id = "deleteUser",
          .summary = "Delete a user account and its tokens",
          .tag = "users",
          .action = "users.write",
          .responses = {{204, "Deleted"}, problem_response(409, "The last active admin")}};
}

}  // namespace

void add_user_routes(net::Router& router, UserDeps deps) {
  auto h = std::make_shared<const UserHandlers>(deps);
  router.add(verb::get, "/api/v1/users", list_spec(), bind(h, &UserHandlers::list));
  router.add(verb::post, "/api/v1/users", create_spec(), bind(h, &UserHandlers::create));
  router.add(verb::get, "/api/v1/users/{id}", get_spec(), bind(h, &UserHandlers::get));
  router.add(verb::patch, "/api/v1/users/{id}", update_spec(), bind(h, &UserHandlers::update));
  router.add(verb::delete_, "/api/v1/users/{id}", remove_spec(), bind(h, &UserHandlers::remove));
}

}  // namespace vigil::api
