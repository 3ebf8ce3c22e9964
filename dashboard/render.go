package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"sync"
	"time"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// styleSum names the stylesheet by its content, so a new release is never
// shown with an old cached one.
var styleSum = func() string {
	b, err := staticFiles.ReadFile("static/style.css")
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}()

// stylesheet is the cache-busting path of style.css under /tablero/static/.
func stylesheet() string { return "style.css?v=" + styleSum }

// pages are the page templates, each parsed with the layout.
var pages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"message", "cumplimiento", "campanas", "institucion", "reporte"} {
		t := template.New(name).Funcs(template.FuncMap{"stylesheet": stylesheet, "acciones": acciones})
		out[name] = template.Must(t.ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html"))
	}
	return out
}()

// acciones counts actions in Spanish: "1 acción", "3 acciones".
func acciones(n int) string {
	if n == 1 {
		return "1 acción"
	}
	return strconv.Itoa(n) + " acciones"
}

// staticHandler serves the embedded assets.
func staticHandler() http.Handler {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err)
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	})
}

// view is what the layout renders around a page.
type view struct {
	Title     string
	Nav       string // the current page, for the navigation
	Viewer    *viewer
	CSV       string // the page's CSV link; empty for none
	Data      any
	Generated string
	Zone      string
}

// buffers hold pages while they render, so that a template error can still
// answer 500; pooled because a heat map of thousands of institutions is
// megabytes.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledBuffer = 16 << 20

// render writes page with status; a template error is an internal error
// caught before anything is written.
func (s *Server) render(w http.ResponseWriter, status int, page string, v view) {
	now := s.now().In(s.loc)
	v.Generated, v.Zone = now.Format("2006-01-02 15:04"), s.loc.String()
	buf := buffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledBuffer {
			buf.Reset()
			buffers.Put(buf)
		}
	}()
	if err := pages[page].ExecuteTemplate(buf, "layout", v); err != nil {
		s.log.Error("dashboard template failed", "page", page, "err", err)
		http.Error(w, "Error interno al mostrar la página.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// messageData is the body of a page that only says something.
type messageData struct{ Text, Link, LinkText string }

// message answers a page with a title and a text, and no data.
func (s *Server) message(w http.ResponseWriter, status int, title, text, link, linkText string) {
	s.render(w, status, "message", view{Title: title, Data: messageData{text, link, linkText}})
}

// clock helps templates show instants.
func (s *Server) clock(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return s.local(t)
}
