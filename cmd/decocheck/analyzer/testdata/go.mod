module example.com/decocheck

go 1.25.0

require github.com/deco-go/deco v0.0.0

replace github.com/deco-go/deco => ../../../..
