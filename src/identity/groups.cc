// The group routes of IdentityBackend.
#include <algorithm>

#include "identity/backend.h"

namespace coffer::identity {

using logical::Operation;
using logical::Request;
using logical::Response;
using namespace detail;  // NOLINT

Json IdentityBackend::GroupJson(const Group& g) const {
  Json j = ToJson(g);
  j["creation_time"] = Time(g.creation_time);
  j["last_update_time"] = Time(g.last_update_time);
  auto parents = store_.ParentGroupIds(g.id);
  j["parent_group_ids"] = std::vector<std::string>(parents.begin(), parents.end());
  std::optional<Alias> alias = store_.GroupAliasOf(g.id);
  j["alias"] = alias ? AliasJson(*alias) : Json::object();
  j["namespace_id"] = "root";
  // Go's nil slices when there are none, as Vault answers (hvac's tests
  // expect null for a new external group's members).
  for (const char* members : {"member_entity_ids", "member_group_ids"}) {
    if (j[members].empty()) j[members] = nullptr;
  }
  return j;
}

Result<Response> IdentityBackend::WriteGroup(const Request& request, std::string_view id,
                                             std::string_view name) {
  auto mutate = [&](Group& g) -> Status {
    // A group being created has not been stamped yet.
    const bool fresh = g.last_update_time == 0;
    // Empty strings are no value, as in Vault.
    if (const Json* n = request.Field("name");
        n && n->is_string() && !n->get_ref<const std::string&>().empty() && !id.empty()) {
      g.name = n->get<std::string>();
    }
    if (const Json* t = request.Field("type");
        t && t->is_string() && !t->get_ref<const std::string&>().empty()) {
      if (!fresh && t->get<std::string>() != g.type) {
        return InvalidArgument("group type cannot be changed");
      }
      g.type = t->get<std::string>();
    }
    if (g.type == "external" && request.Field("member_entity_ids") != nullptr) {
      return InvalidArgument(
          "member entities can't be set manually for external groups: logins through the "
          "group's alias decide them");
    }
    if (const Json* p = request.Field("policies")) {
      ASSIGN_OR_RETURN(g.policies, StringList(*p, "policies"));
    }
    if (const Json* m = request.Field("member_entity_ids")) {
      ASSIGN_OR_RETURN(g.member_entity_ids, StringList(*m, "member_entity_ids"));
    }
    if (const Json* m = request.Field("member_group_ids")) {
      ASSIGN_OR_RETURN(g.member_group_ids, StringList(*m, "member_group_ids"));
    }
    if (const Json* m = request.Field("metadata")) {
      ASSIGN_OR_RETURN(g.metadata, StringMap(*m, "metadata"));
    }
    return Status::Ok();
  };
  ASSIGN_OR_RETURN(auto written, store_.UpsertGroup(id, name, mutate));
  // An update answers 204, as in Vault, also a create that found the name
  // taken (Terraform's provider reads that as "already exists").
  if (!written.second) return logical::NoContent();
  Response r;
  r.data = Json{{"id", written.first.id}, {"name", written.first.name}};
  return r;
}

Result<Response> IdentityBackend::GroupAliases(const Request& request, std::string_view rel) {
  return AliasRoutes(
      request, rel,
      AliasFamily{"group-alias", "group alias", false,
                  [this](std::string_view id) { return store_.GroupAliasById(id); },
                  [this](Alias a) { return store_.PutGroupAlias(std::move(a)); },
                  [this](std::string_view id) { return store_.DeleteGroupAlias(id); },
                  [this] { return store_.GroupAliases(); }});
}

Result<Response> IdentityBackend::Groups(const Request& request, std::string_view rel) {
  const Operation op = request.operation;
  if (rel == "group") {
    if (!IsWrite(op)) return Err(MethodNotAllowed());
    return WriteGroup(request, Str(request, "id"), Str(request, "name"));
  }
  if (rel == "group/id" || rel == "group/id/" || rel == "group/name" || rel == "group/name/") {
    if (op != Operation::kList) return Err(MethodNotAllowed());
    bool by_id = rel.starts_with("group/id");
    Json keys = Json::array();
    Json info = Json::object();
    for (const auto& g : store_.Groups()) {
      keys.push_back(by_id ? g.id : g.name);
      if (by_id)
        info[g.id] = Json{{"name", g.name},
                          {"num_member_entities", g.member_entity_ids.size()},
                          {"num_parent_groups", store_.ParentGroupIds(g.id).size()}};
    }
    if (keys.empty()) return logical::NotFoundResponse();
    if (!by_id) std::sort(keys.begin(), keys.end());
    Json data{{"keys", keys}};
    if (by_id) data["key_info"] = std::move(info);
    Response r;
    r.data = std::move(data);
    return r;
  }
  bool by_id = rel.starts_with("group/id/");
  if (!by_id && !rel.starts_with("group/name/")) return Err(NotFound("unsupported path"));
  std::string key(rel.substr(by_id ? 9 : 11));
  if (key.empty() || key.find('/') != std::string::npos) return Err(NotFound("unsupported path"));
  std::optional<Group> g = by_id ? store_.GroupById(key) : store_.GroupByName(key);
  switch (op) {
    case Operation::kRead: {
      if (!g) return logical::NotFoundResponse();
      Response r;
      r.data = GroupJson(*g);
      return r;
    }
    case Operation::kCreate:
    case Operation::kUpdate:
      if (by_id) {
        if (!g) return Err(InvalidArgument("group not found"));
        return WriteGroup(request, key, "");
      }
      return WriteGroup(request, "", key);
    case Operation::kDelete:
      if (g) TRY(store_.DeleteGroup(g->id));
      return logical::NoContent();
    default:
      return Err(MethodNotAllowed());
  }
}

}  // namespace coffer::identity
