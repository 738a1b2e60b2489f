module github.com/deco-go/deco/cmd/deco

go 1.25.0

require (
	github.com/deco-go/deco v0.0.0
	github.com/schollz/progressbar/v3 v3.19.1
	golang.org/x/image v0.45.0
	golang.org/x/sys v0.47.0
	golang.org/x/term v0.45.0
)

require (
	github.com/mitchellh/colorstring v0.0.0-20190213212951-d06e56a500db // indirect
	github.com/rivo/uniseg v0.4.7 // indirect
)

replace github.com/deco-go/deco => ../..
