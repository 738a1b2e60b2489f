// Command decocheck reports mistakes in the use of github.com/deco-go/deco
// that compile: see package [github.com/deco-go/deco/cmd/decocheck/analyzer].
//
//	decocheck ./...                              # standalone
//	decocheck -fix ./...                         # and apply the suggested fixes
//	go vet -vettool=$(which decocheck) ./...     # as a vet tool
package main

import (
	"github.com/deco-go/deco/cmd/decocheck/analyzer"
	"golang.org/x/tools/go/analysis/singlechecker"
)

func main() { singlechecker.Main(analyzer.Analyzer) }
