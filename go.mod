module github.com/deco-go/deco

go 1.25.0
