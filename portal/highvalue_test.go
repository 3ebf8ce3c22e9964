package portal

import (
	"encoding/json"
	"testing"
)

func TestHighValue(t *testing.T) {
	var p Package
	if err := json.Unmarshal([]byte(`{"id": "d0074e50", "name": "censo_2020", "tags": [{"name": "Alto-Valor"}],
		"groups": [{"name": "economia"}], "extras": [{"key": "hvd_category", "value": "statistics"}], "nivel": "alto"}`), &p); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		rule string
		want bool
	}{
		{"", false},
		{"tag:alto-valor", true},
		{"tag:otro", false},
		{"group:economia", true},
		{"group:salud, tag:otro", false},
		{"extra:hvd_category=statistics", true},
		{"extra:hvd_category=geo", false},
		{"extra:nivel=alto", true},
		{"dataset:censo_2020", true},
		{"tag:otro,dataset:CENSO_2020", true},
	} {
		h, err := ParseHighValue(tc.rule)
		if err != nil {
			t.Fatalf("ParseHighValue(%q): %v", tc.rule, err)
		}
		if got := h.Match(p); got != tc.want {
			t.Errorf("%q: got %v, want %v", tc.rule, got, tc.want)
		}
	}
	for _, bad := range []string{"alto-valor", "tag:", "extra:clave", "color:rojo"} {
		if _, err := ParseHighValue(bad); err == nil {
			t.Errorf("ParseHighValue(%q): got no error", bad)
		}
	}
}
