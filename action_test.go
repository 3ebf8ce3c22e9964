package datosbot_test

import (
	"testing"

	"github.com/datosbot/datosbot"
)

func TestValidateDataURL(t *testing.T) {
	hosts := datosbot.DefaultDataHosts
	tests := []struct {
		name string
		url  string
		ok   bool
	}{
		{"2025 dataset page", "https://www.datos.gob.mx/dataset/accidentes_transito", true},
		{"2025 dataset page with language", "https://www.datos.gob.mx/es/dataset/codigos_postales_entidad_federativa", true},
		{"2025 resource download", "https://www.datos.gob.mx/dataset/d0074e50-d661-44d4-a1a3-73a89e671e1f/resource/575d6ced-44be-4df6-be2f-c8f6fad84bae/download/cp.csv", true},
		{"busca dataset", "https://datos.gob.mx/busca/dataset/informacion-referente-a-casos-covid-19-en-mexico", true},
		{"busca resource", "https://datos.gob.mx/busca/dataset/ubicacion-de-gasolineras-y-precios-comerciales-de-gasolina-y-diesel-por-estacion/resource/575d6ced-44be-4df6-be2f-c8f6fad84bae", true},
		{"busca single-page app", "http://busca.datos.gob.mx/#!/conjuntos/recursos-en-salud", true},
		{"busca single-page app without bang", "http://busca.datos.gob.mx/#/conjuntos/recursos-en-salud", true},
		{"catalogo 2014", "http://catalogo.datos.gob.mx/dataset/variedades-vegetales-y-semillas", true},
		{"historico", "https://historico.datos.gob.mx/busca/dataset/asegurados-en-el-imss", true},
		{"trailing slash", "https://www.datos.gob.mx/dataset/accidentes_transito/", true},
		{"home page", "https://datos.gob.mx/", false},
		{"home page without slash", "https://www.datos.gob.mx", false},
		{"dataset search", "https://www.datos.gob.mx/dataset?q=salud", false},
		{"busca search by organization", "https://datos.gob.mx/busca/dataset?organization=shcp", false},
		{"dataset list", "https://datos.gob.mx/busca/dataset", false},
		{"organization page", "https://datos.gob.mx/busca/organization/imss", false},
		{"historico organization", "https://historico.datos.gob.mx/busca/organization/conagua", false},
		{"busca search fragment", "http://busca.datos.gob.mx/#!/conjuntos?q=salud", false},
		{"busca institution fragment", "http://busca.datos.gob.mx/#!/instituciones/inegi/", false},
		{"blog", "https://www.datos.gob.mx/blog", false},
		{"api", "https://www.datos.gob.mx/api/3/action/package_show?id=accidentes_transito", false},
		{"other host", "https://www.inegi.org.mx/datos/", false},
		{"look-alike host", "https://datos.gob.mx.evil.example/dataset/x", false},
		{"not http", "ftp://datos.gob.mx/dataset/x", false},
		{"no scheme", "datos.gob.mx/dataset/x", false},
		{"empty", "", false},
		{"user info", "https://user@datos.gob.mx/dataset/x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := datosbot.ValidateDataURL(tt.url, hosts)
			if got := err == nil; got != tt.ok {
				t.Fatalf("ValidateDataURL(%q) ok = %v, want %v (err %v)", tt.url, got, tt.ok, err)
			}
			if err != nil && datosbot.ErrorCode(err) != datosbot.EINVALID {
				t.Errorf("code = %q, want %q", datosbot.ErrorCode(err), datosbot.EINVALID)
			}
		})
	}
}

func TestInferMedium(t *testing.T) {
	tests := []struct {
		url  string
		want datosbot.Medium
	}{
		{"https://x.com/INEGI_INFORMA/status/1", datosbot.MediumRedes},
		{"https://twitter.com/SHCP_mx/status/123", datosbot.MediumRedes},
		{"https://www.facebook.com/IMSSmx/posts/1", datosbot.MediumRedes},
		{"https://m.facebook.com/IMSSmx/posts/1", datosbot.MediumRedes},
		{"https://www.instagram.com/p/abc/", datosbot.MediumRedes},
		{"https://youtu.be/abc", datosbot.MediumRedes},
		{"https://www.datos.gob.mx/blog/historia-de-uso", datosbot.MediumHistoria},
		{"https://datos.gob.mx/historias/datos-salud", datosbot.MediumHistoria},
		{"https://www.gob.mx/inegi/prensa/nuevos-datos", datosbot.MediumWeb},
		{"https://www.inegi.gob.mx/datos", datosbot.MediumWeb},
		{"https://www.datos.gob.mx/dataset/x", datosbot.MediumWeb},
		{"https://medium.com/@inegi/x", datosbot.MediumOtro},
		{"https://xcom.example/x", datosbot.MediumOtro},
	}
	for _, tt := range tests {
		if got := datosbot.InferMedium(tt.url); got != tt.want {
			t.Errorf("InferMedium(%q) = %q, want %q", tt.url, got, tt.want)
		}
	}
}

func TestSameURL(t *testing.T) {
	if !datosbot.SameURL("https://X.com/a/status/1/", "http://www.x.com/a/status/1") {
		t.Error("SameURL should ignore scheme, www., host case and a trailing slash")
	}
	if datosbot.SameURL("https://x.com/a/status/1", "https://x.com/a/status/2") {
		t.Error("different paths are different URLs")
	}
}

func TestDescribeFailure(t *testing.T) {
	tests := map[string]string{
		"channel_not_found":                             "el canal no existe o el bot no puede verlo (channel_not_found)",
		"Forbidden: bot was kicked from the group chat": "el bot fue expulsado del grupo (Forbidden: bot was kicked from the group chat)",
		"algo_nuevo":                                    "algo_nuevo",
	}
	for in, want := range tests {
		if got := datosbot.DescribeFailure(in); got != want {
			t.Errorf("DescribeFailure(%q) = %q, want %q", in, got, want)
		}
	}
}
