package dashboard

import (
	"html/template"
	"net/url"
	"strconv"
	"strings"
)

// Body renders the heat map's rows. It writes the HTML itself instead of
// ranging in the template: html/template's reflection and contextual
// escaping cost about 90 allocations per cell, which made a page of 3,000
// institutions × 6 bimesters several times slower than its 300 ms budget.
// Every dynamic part is escaped here for the context it lands in: the key
// as a URL path segment and as attribute text (keys are slugs, but the
// escaping does not rely on it), the name as element text; the rest are
// constants and numbers.
func (hm heatMap) Body() template.HTML {
	var b strings.Builder
	b.Grow(len(hm.Rows) * (300 + 330*len(hm.Columns)))
	esc := template.HTMLEscapeString
	bims := make([]string, len(hm.Columns))
	for j, c := range hm.Columns {
		bims[j] = c.B.String()
	}
	for _, r := range hm.Rows {
		key := esc(r.Key)
		path := esc("/tablero/institucion/" + url.PathEscape(r.Key))
		b.WriteString(`<tr data-institucion="`)
		b.WriteString(key)
		b.WriteString(`"><th scope="row"><a href="`)
		b.WriteString(path)
		b.WriteString(`">`)
		b.WriteString(esc(r.Name))
		b.WriteString(`</a> <small>`)
		b.WriteString(key)
		b.WriteString(`</small></th>`)
		for j, c := range r.Cells {
			st := states[c.State]
			bim := bims[j]
			b.WriteString(`<td class="cell `)
			b.WriteString(st.class)
			b.WriteString(`" data-estado="`)
			b.WriteString(st.word)
			b.WriteString(`" data-bimestre="`)
			b.WriteString(bim)
			b.WriteString(`"><a href="`)
			b.WriteString(path)
			b.WriteString(`?bimestre=`)
			b.WriteString(bim)
			b.WriteString(`"><span class="sym" aria-hidden="true">`)
			b.WriteString(st.symbol)
			b.WriteString(`</span> <span class="word">`)
			b.WriteString(st.word)
			b.WriteString(`</span><span class="n">`)
			b.WriteString(acciones(c.Actions))
			if hm.Evidence {
				b.WriteString(` · `)
				b.WriteString(strconv.Itoa(c.Verified))
				b.WriteString(` verif.`)
			}
			b.WriteString(`</span></a></td>`)
		}
		b.WriteString("</tr>\n")
	}
	return template.HTML(b.String())
}
