package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/datosbot/datosbot"
)

// Command is one sub-command of the language: everything the parser, the
// help, the permission check and the dispatcher know about it, in one entry
// of table.
type Command struct {
	Name    string   // canonical, folded: "anunciar", "campana"
	Aliases []string // other folded spellings that mean it: "registrar"
	// Options are the folded keys taken as clave:valor options; anything
	// else with a colon (a URL, a time) stays a positional argument.
	Options []string
	Usage   string // after "/datos ", e.g. "estado [clave]"
	Summary string // one line in Spanish
	// WhoMay says in Spanish who may run it, for refusals and help.
	WhoMay string
	// Allowed reports whether the caller may see and run the command; the
	// command still checks permissions on its target.
	Allowed func(c *Caller) bool
	Run     func(s *Service, ctx context.Context, c *Caller, in Invocation) (datosbot.Reply, error)
}

// table is the command language, in the order ayuda lists it. It is filled
// by init because its handlers refer back to it (ayuda, usage).
var table []Command

// byName finds a table entry by canonical name or alias.
var byName map[string]*Command

func init() {
	table = []Command{
		{Name: "anunciar", Aliases: []string{"anuncio", "registrar"},
			Options: []string{"medio", "tipo", "fecha", "campana", "institucion", "nota", "datos"},
			Usage:   "anunciar <url-datos> <url-publicación> [medio:web|redes|historia|otro] [tipo:publicacion|dataton|uso] [fecha:AAAA-MM-DD] [campaña:<id>] [institucion:<clave>] [nota…]",
			Summary: "registra una acción de comunicación",
			WhoMay:  "Registran acciones los enlaces Institucional y de Comunicación Digital; si es enlace, pida una invitación y use /datos unirme <código>.",
			Allowed: (*Caller).Liaison, Run: (*Service).announce},
		{Name: "estado", Options: []string{"institucion"},
			Usage: "estado [clave]", Summary: "muestra si la institución cumple el bimestre actual",
			WhoMay:  "El estado lo ven los enlaces de la institución, la Unidad y la Coordinación; si es enlace, pida una invitación.",
			Allowed: centralOrLiaison, Run: (*Service).status},
		{Name: "acciones", Aliases: []string{"accion"}, Options: []string{"bimestre", "institucion"},
			Usage: "acciones [clave] [bimestre:2026-B6]", Summary: "lista las acciones registradas",
			WhoMay:  "Las acciones las ven los enlaces de la institución, la Unidad y la Coordinación.",
			Allowed: centralOrLiaison, Run: (*Service).actions},
		{Name: "retirar", Options: []string{"motivo"},
			Usage: "retirar <id-acción> [motivo…]", Summary: "retira una acción registrada por error",
			WhoMay:  "Retira una acción quien la registró, el Enlace Institucional o la Unidad.",
			Allowed: func(c *Caller) bool { return c.Unidad || c.Liaison() }, Run: (*Service).withdraw},
		{Name: "publicar", Options: []string{"institucion", "nota"},
			Usage:   "publicar <url-datos> [alto-valor] [nota…]",
			Summary: "avisa a los enlaces de comunicación que se publicaron datos",
			WhoMay:  "Avisa de publicaciones el Enlace Institucional.",
			Allowed: (*Caller).Institutional, Run: (*Service).publish},
		{Name: "enterado", Options: []string{"institucion"},
			Usage: "enterado <id-campaña> [institucion:<clave>]", Summary: "confirma que su institución recibió una campaña",
			WhoMay:  "Confirman campañas los enlaces de las instituciones.",
			Allowed: (*Caller).Liaison,
			Run: func(s *Service, ctx context.Context, c *Caller, in Invocation) (datosbot.Reply, error) {
				return s.campaigns.acknowledge(ctx, c, in)
			}},
		{Name: "campana", Aliases: []string{"campanas"}, Options: []string{"instituciones", "solicita", "titulo"},
			Usage:   `campaña nueva <fecha-límite AAAA-MM-DD> <url-datos>[,url2…] [instituciones:a,b] [solicita:unidad|coordinacion] [titulo:"…"] <mensaje…> · campaña lista · campaña ver <id> · campaña cerrar <id>`,
			Summary: "lanza y sigue campañas de comunicación en todas las instituciones o en algunas",
			WhoMay:  "Las campañas las lanzan la Unidad y la Coordinación.",
			Allowed: (*Caller).Central,
			Run: func(s *Service, ctx context.Context, c *Caller, in Invocation) (datosbot.Reply, error) {
				return s.campaigns.campaign(ctx, c, in)
			}},
		{Name: "reporte", Aliases: []string{"reportes"}, Options: []string{"bimestre"},
			Usage: "reporte [bimestre] · reporte semestral <2026-S2> [clave]", Summary: "tabla de cumplimiento",
			WhoMay:  "Los reportes son para la Unidad y la Coordinación.",
			Allowed: (*Caller).Central, Run: (*Service).report},
		{Name: "canal", Aliases: []string{"canales"},
			Usage:   "canal vincular <clave> · canal desvincular",
			Summary: "hace (o deja de hacer) de este chat un canal de enlace de la institución",
			WhoMay:  "Vincular canales corresponde a la Unidad o al Enlace Institucional.",
			Allowed: unidadOrInstitutional, Run: (*Service).channel},
		{Name: "invitar",
			Usage:   "invitar <clave> <rol>  (rol: institucional o comunicacion; la Unidad también: invitar unidad, invitar coordinacion)",
			Summary: "crea un código de invitación de un solo uso, válido 7 días",
			WhoMay:  "Invitan la Unidad y, para su institución, el Enlace Institucional.",
			Allowed: unidadOrInstitutional, Run: (*Service).invite},
		{Name: "institucion", Aliases: []string{"instituciones"}, Options: []string{"ckan"},
			Usage:   "institucion alta <clave> <nombre…> [ckan:<org>] · institucion lista · institucion baja <clave>",
			Summary: "administra las instituciones",
			WhoMay:  "Solo la Unidad administra instituciones.",
			Allowed: func(c *Caller) bool { return c.Unidad }, Run: (*Service).institution},
		{Name: "tablero", Usage: "tablero",
			Summary: "le envía en privado un enlace de acceso al tablero web (un solo uso, 15 minutos)",
			WhoMay:  "El tablero es para la Unidad, la Coordinación y los enlaces de las instituciones; si es enlace, pida una invitación y use /datos unirme <código>.",
			Allowed: centralOrLiaison, Run: (*Service).tablero},
		{Name: "unirme", Aliases: []string{"start"},
			Usage: "unirme <código>", Summary: "usa una invitación", Allowed: anyone, Run: (*Service).join},
		{Name: "ayuda", Aliases: []string{"help"},
			Usage: "ayuda [subcomando]", Summary: "muestra lo que puede hacer", Allowed: anyone, Run: (*Service).help},
	}
	byName = map[string]*Command{}
	for i := range table {
		c := &table[i]
		for _, name := range append([]string{c.Name}, c.Aliases...) {
			if _, dup := byName[name]; dup {
				panic("commands: " + name + " names two commands")
			}
			byName[name] = c
		}
	}
}

func anyone(*Caller) bool                  { return true }
func centralOrLiaison(c *Caller) bool      { return c.Central() || c.Liaison() }
func unidadOrInstitutional(c *Caller) bool { return c.Unidad || c.Institutional() }

// lookup finds a command by its folded name or alias.
func lookup(name string) (*Command, bool) {
	c, ok := byName[name]
	return c, ok
}

func (s *Service) help(ctx context.Context, c *Caller, in Invocation) (datosbot.Reply, error) {
	if len(in.Args) > 0 {
		cmd, ok := lookup(datosbot.Fold(in.Args[0]))
		if !ok {
			return datosbot.Reply{}, datosbot.Errorf(datosbot.EINVALID, "No conozco el subcomando %q. Escriba /datos ayuda para ver la lista.", datosbot.Truncate(in.Args[0], 40))
		}
		r := datosbot.Reply{Title: "/datos " + cmd.Name, Text: cmd.Summary + ".\nUso: /datos " + cmd.Usage}
		if cmd.Name == "anunciar" {
			r.Text += "\n\n" + datosbot.URLRule
		}
		if !cmd.Allowed(c) {
			r.Context = "Usted no puede usarlo todavía. " + cmd.WhoMay
		}
		return r, nil
	}
	var lines []string
	for _, cmd := range table {
		if cmd.Allowed(c) {
			lines = append(lines, "/datos "+cmd.Usage+"\n    "+cmd.Summary)
		}
	}
	r := datosbot.Reply{Title: "Comandos de datosbot", Text: strings.Join(lines, "\n")}
	switch {
	case c.Central():
	case c.Liaison():
		r.Context = "Cada institución debe comunicar sus datos abiertos al menos una vez por bimestre, citando la URL directa de los datos. Registre cada acción con /datos anunciar."
	default:
		r.Context = "Aún no es enlace de ninguna institución. Pida una invitación a su Enlace Institucional o a la Unidad y escriba /datos unirme <código>."
	}
	return r, nil
}

// arg returns in.Args[i] or "".
func arg(in Invocation, i int) string {
	if i < len(in.Args) {
		return in.Args[i]
	}
	return ""
}

// usage is the refusal of a command typed without what it needs.
func usage(name string) error {
	return datosbot.Errorf(datosbot.EINVALID, "Faltan datos. Uso: /datos %s", usageOf(name))
}

func usageOf(name string) string {
	if c, ok := lookup(name); ok {
		return c.Usage
	}
	return name
}

func instLabel(in datosbot.Institution) string {
	return fmt.Sprintf("%s (%s)", in.Name, in.Key)
}
