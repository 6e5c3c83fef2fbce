key = <<-EOT
    line one
      line two
    EOT
list = [1, 0x1f, 017, 1.5e3, "s${x}", true,]
obj = { a = "b", "c" = [] }
block "a" "b" { x = "\u00e9\U0001F600" }
