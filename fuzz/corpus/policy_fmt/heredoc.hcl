path "a" {
  capabilities = ["read"]
  allowed_parameters = {
    "s" = [<<EOF
line
EOF
, <<-X
  y
  X
]
  }
}
