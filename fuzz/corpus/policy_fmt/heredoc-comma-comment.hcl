psath ""a  {
eters = {
    "s" = [<<EOF
line
EOF
# Owner: platf
, <<-X
  y
  X
]
  }
}
