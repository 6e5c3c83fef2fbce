path "secret/data/*" {
  capabilities = ["create", "read", "update", "patch", "delete", "list"]
  allowed_parameters = { "foo" = [], "bar" = ["zip", "zap*"] }
  denied_parameters = { "baz" = [] }
  required_parameters = ["foo"]
  min_wrapping_ttl = "1s"
  max_wrapping_ttl = "90s"
}
path "secret/+/teamb" { capabilities = ["deny"] }
path "sys/legacy" { policy = "sudo" }
