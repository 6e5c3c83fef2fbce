#include "identity/backend.h"

#include <chrono>

#include "common/clock.h"
#include "common/secret_bytes.h"

namespace coffer::identity {

using logical::DataResponse;
using logical::Operation;
using logical::Request;
using logical::Response;

namespace detail {

bool IsWrite(Operation op) { return op == Operation::kCreate || op == Operation::kUpdate; }
std::string Time(std::int64_t unix_seconds) {
  return FormatRfc3339(std::chrono::system_clock::time_point(std::chrono::seconds(unix_seconds)));
}
std::string Str(const Request& request, std::string_view name) {
  const Json* v = request.Field(name);
  return v != nullptr && v->is_string() ? v->get<std::string>() : "";
}

Json AliasJson(const Alias& a) {
  Json j = ToJson(a);
  j["creation_time"] = Time(a.creation_time);
  j["last_update_time"] = Time(a.last_update_time);
  if (a.metadata.empty()) j["metadata"] = nullptr;  // Go's nil map; else ToJson's
  j["local"] = false;
  // Go's nil slice when none.
  if (a.merged_from_canonical_ids.empty()) j["merged_from_canonical_ids"] = nullptr;
  j["namespace_id"] = "root";
  return j;
}

}  // namespace detail

using namespace detail;  // NOLINT: the helpers above, in this file only

namespace {

Json SetJson(const std::set<std::string>& s) {
  return Json(std::vector<std::string>(s.begin(), s.end()));
}

}  // namespace

Json IdentityBackend::EntityJson(const Entity& e) const {
  Json j = ToJson(e);
  j["creation_time"] = Time(e.creation_time);
  j["last_update_time"] = Time(e.last_update_time);
  Json aliases = Json::array();
  for (const auto& a : store_.AliasesOf(e.id)) aliases.push_back(AliasJson(a));
  j["aliases"] = std::move(aliases);
  auto direct = store_.DirectGroupIds(e.id);
  auto all = store_.AllGroupIds(e.id);
  std::set<std::string> inherited;
  for (const auto& g : all) {
    if (!direct.contains(g)) inherited.insert(g);
  }
  j["direct_group_ids"] = SetJson(direct);
  j["group_ids"] = SetJson(all);
  j["inherited_group_ids"] = SetJson(inherited);
  if (e.merged_entity_ids.empty()) j["merged_entity_ids"] = nullptr;  // Go's nil slice
  j["namespace_id"] = "root";
  j["mfa_secrets"] = Json::object();  // secrets are never returned
  return j;
}

Result<Response> IdentityBackend::HandleRequest(const Request& request) {
  std::string_view rel = request.relative_path;
  if (rel.starts_with("entity-alias")) return EntityAliases(request, rel);
  if (rel.starts_with("entity")) return Entities(request, rel);
  if (rel.starts_with("group-alias")) return GroupAliases(request, rel);
  if (rel.starts_with("group")) return Groups(request, rel);
  if (rel.starts_with("lookup/")) return Lookup(request, rel);
  if (rel.starts_with("mfa/")) return Mfa(request, rel);
  if (rel.starts_with("oidc/") && oidc_ != nullptr) return oidc_->Handle(request, rel);
  return Err(NotFound("unsupported path"));
}

Result<Response> IdentityBackend::WriteEntity(const Request& request, std::string_view id,
                                              std::string_view name, bool by_name) {
  auto mutate = [&](Entity& e) -> Status {
    if (!by_name) {
      // An empty name is no name, as in Vault (a JSON string's empty() is
      // always false: ask the string).
      if (const Json* n = request.Field("name");
          n && n->is_string() && !n->get_ref<const std::string&>().empty()) {
        e.name = n->get<std::string>();
      }
    }
    if (const Json* p = request.Field("policies")) {
      ASSIGN_OR_RETURN(e.policies, StringList(*p, "policies"));
    }
    if (const Json* m = request.Field("metadata")) {
      ASSIGN_OR_RETURN(e.metadata, StringMap(*m, "metadata"));
    }
    if (const Json* d = request.Field("disabled")) {
      if (d->is_boolean()) {
        e.disabled = d->get<bool>();
      } else if (d->is_string() && (*d == "true" || *d == "false")) {
        e.disabled = *d == "true";
      } else {
        return InvalidArgument("disabled must be a boolean");
      }
    }
    return Status::Ok();
  };
  ASSIGN_OR_RETURN(auto written, store_.UpsertEntity(id, name, false, mutate));
  // An update answers 204, as in Vault, also a create that found the name
  // taken (Terraform's provider reads that as "already exists").
  if (!written.second) return logical::NoContent();
  return DataResponse(Json{{"id", written.first.id}, {"name", written.first.name}});
}

Result<Response> IdentityBackend::Merge(const Request& request) {
  const std::string to = Str(request, "to_entity_id");
  if (to.empty()) return Err(InvalidArgument("missing entity id to merge to"));
  std::vector<std::string> from;
  if (const Json* f = request.Field("from_entity_ids")) {
    ASSIGN_OR_RETURN(from, StringList(*f, "from_entity_ids"));
  }
  if (from.empty()) return Err(InvalidArgument("missing entity ids to merge from"));
  std::vector<std::string> keep;
  if (const Json* k = request.Field("conflicting_alias_ids_to_keep")) {
    ASSIGN_OR_RETURN(keep, StringList(*k, "conflicting_alias_ids_to_keep"));
  }
  bool force = false;
  if (const Json* f = request.Field("force"); f != nullptr && !f->is_null()) {
    if (f->is_boolean()) {
      force = f->get<bool>();
    } else if (f->is_string() && (*f == "true" || *f == "false")) {
      force = *f == "true";
    } else {
      return Err(InvalidArgument("force must be a boolean"));
    }
  }
  // The TOTP secrets go along, in the same transaction, as in Vault
  // (`force` lets a merged entity's replace the target's).
  ASSIGN_OR_RETURN(std::vector<storage::Op> secrets, mfa_.SecretMoveOps(from, to, force));
  Status merged = store_.MergeEntities(to, from, keep, secrets);
  for (auto& op : secrets) WipeString(op.value);
  TRY(merged);
  return logical::NoContent();
}

Result<Response> IdentityBackend::Entities(const Request& request, std::string_view rel) {
  const Operation op = request.operation;
  if (rel == "entity/merge") {
    if (!IsWrite(op)) return Err(MethodNotAllowed());
    return Merge(request);
  }
  if (rel == "entity") {
    if (!IsWrite(op)) return Err(MethodNotAllowed());
    return WriteEntity(request, Str(request, "id"), Str(request, "name"), false);
  }
  if (rel == "entity/id/" || rel == "entity/id" || rel == "entity/name/" || rel == "entity/name") {
    if (op != Operation::kList) return Err(MethodNotAllowed());
    bool by_id = rel.starts_with("entity/id");
    Json keys = Json::array();
    Json info = Json::object();
    for (const auto& e : store_.Entities()) {
      if (by_id) {
        keys.push_back(e.id);
        Json aliases = Json::array();
        for (const auto& a : store_.AliasesOf(e.id)) {
          aliases.push_back(Json{{"id", a.id},
                                 {"canonical_id", a.canonical_id},
                                 {"mount_accessor", a.mount_accessor},
                                 {"mount_path", a.mount_path},
                                 {"mount_type", a.mount_type},
                                 {"name", a.name}});
        }
        info[e.id] = Json{{"name", e.name}, {"aliases", std::move(aliases)}};
      } else {
        keys.push_back(e.name);
      }
    }
    if (keys.empty()) return logical::NotFoundResponse();
    if (!by_id) std::sort(keys.begin(), keys.end());
    Json data{{"keys", keys}};
    if (by_id) data["key_info"] = std::move(info);
    return DataResponse(std::move(data));
  }
  bool by_id = rel.starts_with("entity/id/");
  if (!by_id && !rel.starts_with("entity/name/")) return Err(NotFound("unsupported path"));
  std::string key(rel.substr(by_id ? 10 : 12));
  if (key.empty() || key.find('/') != std::string::npos) return Err(NotFound("unsupported path"));
  std::optional<Entity> e = by_id ? store_.EntityById(key) : store_.EntityByName(key);
  switch (op) {
    case Operation::kRead:
      if (!e) return logical::NotFoundResponse();
      return DataResponse(EntityJson(*e));
    case Operation::kCreate:
    case Operation::kUpdate:
      if (by_id) {
        if (!e) return Err(InvalidArgument("entity not found"));
        return WriteEntity(request, key, "", false);
      }
      return WriteEntity(request, "", key, true);
    case Operation::kDelete:
      if (e) TRY(store_.DeleteEntity(e->id));
      return logical::NoContent();
    default:
      return Err(MethodNotAllowed());
  }
}

Result<Response> detail::AliasRoutes(const Request& request, std::string_view rel,
                                     const AliasFamily& family) {
  const Operation op = request.operation;
  const std::string base(family.base);
  auto write = [&](std::optional<Alias> existing) -> Result<Response> {
    Alias a = existing ? *existing : Alias{};
    if (const Json* n = request.Field("name"); n && n->is_string()) a.name = n->get<std::string>();
    if (const Json* c = request.Field("canonical_id"); c && c->is_string()) {
      a.canonical_id = c->get<std::string>();
    }
    if (const Json* m = request.Field("mount_accessor"); m && m->is_string()) {
      a.mount_accessor = m->get<std::string>();
    }
    if (const Json* m = request.Field("custom_metadata"); m && family.custom_metadata) {
      ASSIGN_OR_RETURN(a.custom_metadata, StringMap(*m, "custom_metadata"));
    }
    ASSIGN_OR_RETURN(Alias stored, family.put(std::move(a)));
    return DataResponse(Json{{"id", stored.id}, {"canonical_id", stored.canonical_id}});
  };
  const std::string unknown = "invalid " + std::string(family.noun) + " ID provided";
  if (rel == base) {
    if (!IsWrite(op)) return Err(MethodNotAllowed());
    std::string id = Str(request, "id");
    if (id.empty()) return write(std::nullopt);
    auto existing = family.by_id(id);
    if (!existing) return Err(InvalidArgument(unknown));
    return write(existing);
  }
  if (rel == base + "/id" || rel == base + "/id/") {
    if (op != Operation::kList) return Err(MethodNotAllowed());
    Json keys = Json::array();
    Json info = Json::object();
    for (const auto& a : family.all()) {
      keys.push_back(a.id);
      // Vault's fields (vaultrs reads every one of them).
      info[a.id] = Json{{"canonical_id", a.canonical_id},
                        {"custom_metadata", a.custom_metadata},
                        {"local", false},
                        {"metadata", a.metadata.empty() ? Json() : Json(a.metadata)},
                        {"mount_accessor", a.mount_accessor},
                        {"mount_path", a.mount_path},
                        {"mount_type", a.mount_type},
                        {"name", a.name}};
    }
    if (keys.empty()) return logical::NotFoundResponse();
    return DataResponse(Json{{"keys", keys}, {"key_info", info}});
  }
  if (!rel.starts_with(base + "/id/")) return Err(NotFound("unsupported path"));
  std::string id(rel.substr(base.size() + 4));
  auto a = family.by_id(id);
  switch (op) {
    case Operation::kRead:
      if (!a) return logical::NotFoundResponse();
      return DataResponse(AliasJson(*a));
    case Operation::kCreate:
    case Operation::kUpdate:
      if (!a) return Err(InvalidArgument(unknown));
      return write(a);
    case Operation::kDelete:
      TRY(family.erase(id));
      return logical::NoContent();
    default:
      return Err(MethodNotAllowed());
  }
}

Result<Response> IdentityBackend::EntityAliases(const Request& request, std::string_view rel) {
  return AliasRoutes(request, rel,
                     AliasFamily{"entity-alias", "alias", true,
                                 [this](std::string_view id) { return store_.AliasById(id); },
                                 [this](Alias a) { return store_.PutAlias(std::move(a)); },
                                 [this](std::string_view id) { return store_.DeleteAlias(id); },
                                 [this] { return store_.Aliases(); }});
}

Result<Response> IdentityBackend::Lookup(const Request& request, std::string_view rel) {
  if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
  const std::string name = Str(request, "name");
  const std::string id = Str(request, "id");
  const std::string alias_id = Str(request, "alias_id");
  const std::string alias_name = Str(request, "alias_name");
  const std::string alias_mount = Str(request, "alias_mount_accessor");
  int given = !name.empty() + !id.empty() + !alias_id.empty() + !alias_name.empty();
  if (given != 1) {
    return Err(InvalidArgument("exactly one of name, id, alias_id or alias_name must be given"));
  }
  if (rel == "lookup/entity") {
    std::optional<Entity> e;
    if (!name.empty()) e = store_.EntityByName(name);
    if (!id.empty()) e = store_.EntityById(id);
    std::optional<Alias> a;
    if (!alias_id.empty()) a = store_.AliasById(alias_id);
    if (!alias_name.empty()) {
      if (alias_mount.empty()) return Err(InvalidArgument("missing alias_mount_accessor"));
      a = store_.FindAlias(alias_mount, alias_name);
    }
    if (a) e = store_.EntityById(a->canonical_id);
    if (!e) return logical::NoContent();
    return DataResponse(EntityJson(*e));
  }
  if (rel == "lookup/group") {
    std::optional<Group> g;
    if (!name.empty()) g = store_.GroupByName(name);
    if (!id.empty()) g = store_.GroupById(id);
    std::optional<Alias> a;
    if (!alias_id.empty()) a = store_.GroupAliasById(alias_id);
    if (!alias_name.empty()) {
      if (alias_mount.empty()) return Err(InvalidArgument("missing alias_mount_accessor"));
      a = store_.FindGroupAlias(alias_mount, alias_name);
    }
    if (a) g = store_.GroupById(a->canonical_id);
    if (!g) return logical::NoContent();
    return DataResponse(GroupJson(*g));
  }
  return Err(NotFound("unsupported path"));
}

}  // namespace coffer::identity
