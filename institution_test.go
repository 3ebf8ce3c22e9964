package datosbot_test

import (
	"strings"
	"testing"

	"github.com/datosbot/datosbot"
)

func TestValidateKey(t *testing.T) {
	tests := []struct {
		name string
		key  string
		ok   bool
	}{
		{"short", "inegi", true},
		{"one letter", "a", true},
		{"digits and hyphens", "sader-2026", true},
		{"starts with a digit", "9a", true},
		{"40 characters", strings.Repeat("a", 40), true},
		{"empty", "", false},
		{"41 characters", strings.Repeat("a", 41), false},
		{"upper case", "INEGI", false},
		{"accent", "educación", false},
		{"ñ", "compañia", false},
		{"inner space", "se p", false},
		{"surrounding spaces", " inegi ", false},
		{"underscore", "sader_2026", false},
		{"starts with a hyphen", "-inegi", false},
		{"dot", "gob.mx", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := datosbot.ValidateKey(tt.key)
			if got := err == nil; got != tt.ok {
				t.Fatalf("ValidateKey(%q) ok = %v, want %v (err %v)", tt.key, got, tt.ok, err)
			}
			if err != nil {
				if got := datosbot.ErrorCode(err); got != datosbot.EINVALID {
					t.Errorf("code = %q, want %q", got, datosbot.EINVALID)
				}
				if msg := datosbot.ErrorMessage(err); !strings.Contains(msg, "minúsculas") {
					t.Errorf("message = %q, want it to say how to write a key", msg)
				}
			}
		})
	}
}

func TestInstitutionValidate(t *testing.T) {
	valid := datosbot.Institution{Key: "inegi", Name: "Instituto Nacional de Estadística y Geografía", CKANOrg: "inegi"}
	tests := []struct {
		name   string
		edit   func(*datosbot.Institution)
		wantIn string // part of the error message; "" when valid
	}{
		{"valid", func(*datosbot.Institution) {}, ""},
		{"no CKAN organization", func(i *datosbot.Institution) { i.CKANOrg = "" }, ""},
		{"CKAN organization with underscore", func(i *datosbot.Institution) { i.CKANOrg = "secretaria_de_hacienda" }, ""},
		{"CKAN organization of 100 characters", func(i *datosbot.Institution) { i.CKANOrg = strings.Repeat("o", 100) }, ""},
		{"name of 200 characters", func(i *datosbot.Institution) { i.Name = strings.Repeat("x", 200) }, ""},
		// The limit counts characters, as its message says, not bytes.
		{"name of 200 accented characters", func(i *datosbot.Institution) { i.Name = strings.Repeat("í", 200) }, ""},
		{"bad key", func(i *datosbot.Institution) { i.Key = "INEGI" }, "clave"},
		{"empty name", func(i *datosbot.Institution) { i.Name = "" }, "Falta el nombre"},
		{"blank name", func(i *datosbot.Institution) { i.Name = "  \t " }, "Falta el nombre"},
		{"name of 201 characters", func(i *datosbot.Institution) { i.Name = strings.Repeat("x", 201) }, "demasiado largo"},
		{"name of 201 accented characters", func(i *datosbot.Institution) { i.Name = strings.Repeat("é", 201) }, "demasiado largo"},
		{"CKAN organization in upper case", func(i *datosbot.Institution) { i.CKANOrg = "INEGI" }, "organización CKAN"},
		{"CKAN organization with a space", func(i *datosbot.Institution) { i.CKANOrg = "inegi mx" }, "organización CKAN"},
		{"CKAN organization of 101 characters", func(i *datosbot.Institution) { i.CKANOrg = strings.Repeat("o", 101) }, "organización CKAN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := valid
			tt.edit(&in)
			err := in.Validate()
			switch {
			case tt.wantIn == "" && err != nil:
				t.Errorf("Validate(%+v) = %v, want nil", in, err)
			case tt.wantIn != "" && err == nil:
				t.Errorf("Validate(%+v) = nil, want an error about %q", in, tt.wantIn)
			case tt.wantIn != "":
				if got := datosbot.ErrorCode(err); got != datosbot.EINVALID {
					t.Errorf("code = %q, want %q", got, datosbot.EINVALID)
				}
				if msg := datosbot.ErrorMessage(err); !strings.Contains(msg, tt.wantIn) {
					t.Errorf("message = %q, want it to contain %q", msg, tt.wantIn)
				}
			}
		})
	}
}

func TestParseRole(t *testing.T) {
	tests := []struct {
		in      string
		want    datosbot.Role
		central bool
		ok      bool
	}{
		{"unidad", datosbot.RoleUnidad, true, true},
		{"Unidad", datosbot.RoleUnidad, true, true},
		{"coordinacion", datosbot.RoleCoordinacion, true, true},
		{"Coordinación", datosbot.RoleCoordinacion, true, true},
		{"COORDINACIÓN", datosbot.RoleCoordinacion, true, true},
		{" institucional ", datosbot.RoleInstitucional, false, true},
		{"comunicación", datosbot.RoleComunicacion, false, true},
		{"Comunicacion", datosbot.RoleComunicacion, false, true},
		{"", "", false, false},
		{"admin", "", false, false},
		{"enlace", "", false, false},
		{"unidades", "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := datosbot.ParseRole(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("ParseRole(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
			if err != nil {
				if code := datosbot.ErrorCode(err); code != datosbot.EINVALID {
					t.Errorf("code = %q, want %q", code, datosbot.EINVALID)
				}
				if msg := datosbot.ErrorMessage(err); !strings.Contains(msg, "unidad, coordinacion, institucional o comunicacion") {
					t.Errorf("message = %q, want it to list the roles", msg)
				}
				return
			}
			if c := got.Central(); c != tt.central {
				t.Errorf("%s.Central() = %v, want %v", got, c, tt.central)
			}
		})
	}
	if datosbot.Role("").Central() {
		t.Error(`Role("").Central() = true, want false`)
	}
}
