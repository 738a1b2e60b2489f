package gclplugin_test

import (
	"strings"
	"testing"

	"github.com/deco-go/deco/cmd/decocheck/analyzer"
	_ "github.com/deco-go/deco/cmd/decocheck/gclplugin"
	"github.com/golangci/plugin-module-register/register"
)

// golangci-lint finds the plugin by name, builds it from its settings and
// runs the analyzers it returns with type information.
func TestPlugin(t *testing.T) {
	newPlugin, err := register.GetPlugin("decocheck")
	if err != nil {
		t.Fatal(err)
	}
	p, err := newPlugin(map[string]any{"skiptests": true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { analyzer.Analyzer.Flags.Set("skiptests", "false") })
	as, err := p.BuildAnalyzers()
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 1 || as[0] != analyzer.Analyzer {
		t.Fatalf("analyzers = %v, want decocheck's", as)
	}
	if got := analyzer.Analyzer.Flags.Lookup("skiptests").Value.String(); got != "true" {
		t.Fatalf("skiptests = %s after settings skiptests: true", got)
	}
	if p.GetLoadMode() != register.LoadModeTypesInfo {
		t.Fatalf("load mode %q", p.GetLoadMode())
	}
}

func TestPluginRejectsUnknownSettings(t *testing.T) {
	newPlugin, err := register.GetPlugin("decocheck")
	if err != nil {
		t.Fatal(err)
	}
	_, err = newPlugin(map[string]any{"skip-tests": true})
	if err == nil || !strings.Contains(err.Error(), "skip-tests") {
		t.Fatalf("err = %v, want one naming the unknown key skip-tests", err)
	}
}
