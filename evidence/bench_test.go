package evidence

import (
	"strings"
	"testing"

	"github.com/datosbot/datosbot"
)

// BenchmarkFindInOneMiB measures the cost of looking for the data URL in
// the largest page the fetcher reads: 1 MiB of HTML with 2,000 links, the
// mention last.
func BenchmarkFindInOneMiB(b *testing.B) {
	var sb strings.Builder
	for i := 0; sb.Len() < DefaultMaxBytes-200; i++ {
		sb.WriteString(`<p>Párrafo de la nota con un <a href="https://www.gob.mx/inegi/prensa/nota-`)
		sb.WriteString(strings.Repeat("x", i%7))
		sb.WriteString(`?utm_source=boletin">enlace</a> y texto de relleno para llegar al tamaño de una página grande.</p>` + "\n")
	}
	sb.WriteString(`<a href="http://datos.gob.mx/dataset/accidentes_transito/?fbclid=x">datos</a>`)
	doc := sb.String()
	m := Matcher{DataHosts: datosbot.DefaultDataHosts}
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		links := Links(doc, "https://www.gob.mx/inegi/prensa/nota", m.DataHosts)
		if _, _, ok := m.Find([]string{dataURL}, links); !ok {
			b.Fatal("mention not found")
		}
	}
}
