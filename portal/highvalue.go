package portal

import (
	"fmt"
	"strings"
)

// HighValue is the rule that marks a dataset as high value
// (DATOSBOT_HIGH_VALUE): any of its terms matches. The guide defines no
// marker and none was found on datos.gob.mx (reference §1.5), so each
// deployment says which tag, group, extra or datasets count.
type HighValue []HighValueTerm

// HighValueTerm is one term: tag:<name>, group:<slug>, extra:<key>=<value>
// or dataset:<slug>.
type HighValueTerm struct {
	Kind, Key, Value string
}

// ParseHighValue reads a comma-separated rule; "" matches nothing.
func ParseHighValue(s string) (HighValue, error) {
	var h HighValue
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		kind, rest, ok := strings.Cut(part, ":")
		kind = strings.ToLower(strings.TrimSpace(kind))
		rest = strings.TrimSpace(rest)
		if !ok || rest == "" {
			return nil, fmt.Errorf("%q no es una regla: use tag:<nombre>, group:<grupo>, extra:<clave>=<valor> o dataset:<conjunto>", part)
		}
		t := HighValueTerm{Kind: kind, Value: rest}
		switch kind {
		case "tag", "group", "dataset":
		case "extra":
			k, v, ok := strings.Cut(rest, "=")
			if !ok || strings.TrimSpace(k) == "" {
				return nil, fmt.Errorf("%q no es una regla extra: escríbala como extra:<clave>=<valor>", part)
			}
			t.Key, t.Value = strings.TrimSpace(k), strings.TrimSpace(v)
		default:
			return nil, fmt.Errorf("%q no es una regla: la clase debe ser tag, group, extra o dataset", part)
		}
		h = append(h, t)
	}
	return h, nil
}

// Match reports whether the dataset matches any term. Tags, groups and
// names compare case-insensitively; an extra matches in extras[] or as a
// top-level field (ckanext-scheming puts custom fields there).
func (h HighValue) Match(p Package) bool {
	for _, t := range h {
		switch t.Kind {
		case "tag":
			for _, x := range p.Tags {
				if strings.EqualFold(x.Name, t.Value) {
					return true
				}
			}
		case "group":
			for _, x := range p.Groups {
				if strings.EqualFold(x.Name, t.Value) {
					return true
				}
			}
		case "dataset":
			if strings.EqualFold(p.Name, t.Value) || strings.EqualFold(p.ID, t.Value) {
				return true
			}
		case "extra":
			for _, x := range p.Extras {
				if x.Key == t.Key && strings.EqualFold(x.Value, t.Value) {
					return true
				}
			}
			if strings.EqualFold(p.Field(t.Key), t.Value) && p.Field(t.Key) != "" {
				return true
			}
		}
	}
	return false
}
