package portal

import "testing"

func TestResolve(t *testing.T) {
	for _, tc := range []struct {
		name, url string
		want      Ref
	}{
		{"dataset, 2025 portal", "https://www.datos.gob.mx/dataset/accidentes_transito", Ref{Dataset: "accidentes_transito"}},
		{"dataset with language", "https://www.datos.gob.mx/es/dataset/codigos_postales_entidad_federativa", Ref{Dataset: "codigos_postales_entidad_federativa"}},
		{"busca dataset", "https://datos.gob.mx/busca/dataset/informacion-referente-a-casos-covid-19-en-mexico/", Ref{Dataset: "informacion-referente-a-casos-covid-19-en-mexico"}},
		{"busca resource", "https://datos.gob.mx/busca/dataset/ubicacion-de-gasolineras/resource/575d6ced-44be-4df6-be2f-c8f6fad84bae",
			Ref{Dataset: "ubicacion-de-gasolineras", Resource: "575d6ced-44be-4df6-be2f-c8f6fad84bae"}},
		{"uuid download", "https://www.datos.gob.mx/dataset/d0074e50-d661-44d4-a1a3-73a89e671e1f/resource/1b2c3d4e-0000-4000-8000-000000000001/download/cp.zip",
			Ref{Dataset: "d0074e50-d661-44d4-a1a3-73a89e671e1f", Resource: "1b2c3d4e-0000-4000-8000-000000000001"}},
		{"old busca fragment", "http://busca.datos.gob.mx/#!/conjuntos/recursos-en-salud", Ref{Dataset: "recursos-en-salud"}},
		{"old busca fragment without !", "http://busca.datos.gob.mx/#/conjuntos/recursos-en-salud/", Ref{Dataset: "recursos-en-salud"}},
		{"catalogo era", "http://catalogo.datos.gob.mx/dataset/variedades-vegetales-y-semillas", Ref{Dataset: "variedades-vegetales-y-semillas"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Resolve(tc.url)
			if err != nil || got != tc.want {
				t.Errorf("Resolve(%s): got %+v %v, want %+v", tc.url, got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{"https://www.datos.gob.mx/", "https://www.datos.gob.mx/organization/sep", "http://busca.datos.gob.mx/#!/instituciones/sep"} {
		if got, err := Resolve(bad); err == nil {
			t.Errorf("Resolve(%s): got %+v, want an error", bad, got)
		}
	}
}
