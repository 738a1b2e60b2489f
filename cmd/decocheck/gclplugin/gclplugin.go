// Package gclplugin makes decocheck a golangci-lint module plugin named
// "decocheck" (https://golangci-lint.run/docs/plugins/module-plugins/).
// golangci-lint builds a binary of its own that includes it, from a
// .custom-gcl.yml such as
//
//	version: v2.15.0
//	plugins:
//	  - module: github.com/deco-go/deco/cmd/decocheck
//	    import: github.com/deco-go/deco/cmd/decocheck/gclplugin
//	    version: latest
//
// (`golangci-lint custom` then writes ./custom-gcl), and enables it in
// .golangci.yml:
//
//	version: "2"
//	linters:
//	  enable:
//	    - decocheck
//	  settings:
//	    custom:
//	      decocheck:
//	        type: module
//	        description: deco's rules, checked before the program runs
//	        settings:
//	          skiptests: false
//
// The one setting, skiptests, is decocheck's -skiptests flag.
package gclplugin

import (
	"github.com/deco-go/deco/cmd/decocheck/analyzer"
	"github.com/golangci/plugin-module-register/register"
	"golang.org/x/tools/go/analysis"
)

func init() { register.Plugin("decocheck", New) }

// Settings are the plugin's settings in .golangci.yml. An unknown key is an
// error naming it.
type Settings struct {
	SkipTests bool `json:"skiptests"`
}

// New makes the plugin from its settings; golangci-lint calls it.
func New(settings any) (register.LinterPlugin, error) {
	s, err := register.DecodeSettings[Settings](settings)
	if err != nil {
		return nil, err
	}
	return plugin{s}, nil
}

type plugin struct{ settings Settings }

// BuildAnalyzers returns decocheck's analyzer with the settings applied.
func (p plugin) BuildAnalyzers() ([]*analysis.Analyzer, error) {
	v := "false"
	if p.settings.SkipTests {
		v = "true"
	}
	if err := analyzer.Analyzer.Flags.Set("skiptests", v); err != nil {
		return nil, err
	}
	return []*analysis.Analyzer{analyzer.Analyzer}, nil
}

// GetLoadMode reports that decocheck needs type information.
func (plugin) GetLoadMode() string { return register.LoadModeTypesInfo }
