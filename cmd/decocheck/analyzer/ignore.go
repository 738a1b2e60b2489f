package analyzer

import (
	"go/token"
	"strings"
)

// Rule 6: a comment //decocheck:ignore reason, at the end of the line of a
// diagnostic or alone on the line above it, silences that diagnostic. The
// reason is required: a directive without one is reported (and still
// silences), so that every silenced diagnostic says why.

const ignoreDirective = "//decocheck:ignore"

type ignoreKey struct {
	file string
	line int
}

func (c *checker) collectIgnores() {
	c.ignores = map[ignoreKey]bool{}
	for _, f := range c.pass.Files {
		for _, group := range f.Comments {
			for _, cm := range group.List {
				if !strings.HasPrefix(cm.Text, ignoreDirective) {
					continue
				}
				rest := cm.Text[len(ignoreDirective):]
				if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
					continue // another word, such as //decocheck:ignored
				}
				p := c.pass.Fset.Position(cm.Pos())
				c.ignores[ignoreKey{p.Filename, p.Line}] = true
				if strings.TrimSpace(rest) == "" {
					c.pass.Reportf(cm.Pos(), "%s: %s needs a reason: %s why this is not a mistake", ruleIgnore, ignoreDirective, ignoreDirective)
				}
			}
		}
	}
}

// ignored reports whether a directive on p's line or on the line above
// silences a diagnostic at p.
func (c *checker) ignored(p token.Position) bool {
	return c.ignores[ignoreKey{p.Filename, p.Line}] || c.ignores[ignoreKey{p.Filename, p.Line - 1}]
}
