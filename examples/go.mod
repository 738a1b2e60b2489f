module github.com/deco-go/deco/examples

go 1.25.0

require github.com/deco-go/deco v0.0.0

require golang.org/x/image v0.45.0

replace github.com/deco-go/deco => ..
