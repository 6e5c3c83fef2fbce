path "secret/data/{{identity.entity.aliases.auth_userpass_1.name}}/*" {
  capabilities = ["create", "read", "update"]
}
path "secret/data/{{ identity.entity.name }}/locked" {
  capabilities = ["deny"]
}
path "secret/data/teams/{{identity.groups.names.ops.metadata.site}}/+/x" {
  capabilities = ["read"]
}
path "identity/entity/id/{{identity.entity.id}}" {
  capabilities = ["read"]
}
path "kv/{{identity.entity.metadata.slash}}" {
  capabilities = ["read"]
}
