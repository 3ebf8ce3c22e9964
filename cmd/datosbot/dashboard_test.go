package main

import (
	"strings"
	"testing"
)

func TestPublicURLConfig(t *testing.T) {
	tests := []struct{ value, want, wantErr string }{
		{"", "http://localhost:8080", ""},
		{"https://datosbot.gob.mx/", "https://datosbot.gob.mx", ""},
		{"https://bots.gob.mx/datos", "https://bots.gob.mx/datos", ""},
		{"datosbot.gob.mx", "", "DATOSBOT_PUBLIC_URL"},
		{"ftp://datosbot.gob.mx", "", "DATOSBOT_PUBLIC_URL"},
		{"https://datosbot.gob.mx/?x=1", "", "DATOSBOT_PUBLIC_URL"},
	}
	for _, tt := range tests {
		c, err := LoadConfig(env(map[string]string{"DATOSBOT_PUBLIC_URL": tt.value}))
		switch {
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%q: error %v, want one naming %s", tt.value, err, tt.wantErr)
		case tt.wantErr == "" && err != nil:
			t.Errorf("%q: %v", tt.value, err)
		case tt.wantErr == "" && c.PublicURL != tt.want:
			t.Errorf("%q: PublicURL = %q, want %q", tt.value, c.PublicURL, tt.want)
		}
	}
}
