package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/datosbot/datosbot"
)

var builtin map[string]Command

func init() {
	builtin = map[string]Command{}
	for _, c := range []Command{
		{Name: "ayuda", Usage: "ayuda [subcomando]", Summary: "muestra lo que puede hacer",
			Allowed: anyone, Run: (*Service).help},
		{Name: "institucion", Usage: "institucion alta <clave> <nombre…> [ckan:<org>] · institucion lista · institucion baja <clave>",
			Summary: "administra las instituciones", Allowed: unidad, Run: (*Service).institution},
		{Name: "canal", Usage: "canal vincular <clave> · canal desvincular",
			Summary: "hace (o deja de hacer) de este chat un canal de enlace de la institución",
			Allowed: func(c *Caller) bool { return c.Unidad || c.Institutional() }, Run: (*Service).channel},
		{Name: "invitar", Usage: "invitar <clave> <rol>  (rol: institucional o comunicacion; la Unidad también: invitar unidad, invitar coordinacion)",
			Summary: "crea un código de invitación de un solo uso, válido 7 días",
			Allowed: func(c *Caller) bool { return c.Unidad || c.Institutional() }, Run: (*Service).invite},
		{Name: "unirme", Usage: "unirme <código>", Summary: "usa una invitación", Allowed: anyone, Run: (*Service).join},
		{Name: "anunciar", Usage: "anunciar <url-datos> <url-publicación> [medio:web|redes|historia|otro] [tipo:publicacion|dataton|uso] [fecha:AAAA-MM-DD] [campaña:<id>] [institucion:<clave>] [nota…]",
			Summary: "registra una acción de comunicación", Allowed: liaison, Run: (*Service).announce},
		{Name: "retirar", Usage: "retirar <id-acción> [motivo…]", Summary: "retira una acción registrada por error",
			Allowed: func(c *Caller) bool { return c.Unidad || c.Liaison() }, Run: (*Service).withdraw},
		{Name: "estado", Usage: "estado [clave]", Summary: "muestra si la institución cumple el bimestre actual",
			Allowed: func(c *Caller) bool { return c.Central() || c.Liaison() }, Run: (*Service).status},
		{Name: "acciones", Usage: "acciones [clave] [bimestre:2026-B6]", Summary: "lista las acciones registradas",
			Allowed: func(c *Caller) bool { return c.Central() || c.Liaison() }, Run: (*Service).actions},
		{Name: "publicar", Usage: "publicar <url-datos> [alto-valor] [nota…]",
			Summary: "avisa a los enlaces de comunicación que se publicaron datos", Allowed: (*Caller).Institutional, Run: (*Service).publish},
		{Name: "reporte", Usage: "reporte [bimestre] · reporte semestral <2026-S2> [clave]", Summary: "tabla de cumplimiento",
			Allowed: (*Caller).Central, Run: (*Service).report},
	} {
		builtin[c.Name] = c
	}
}

func anyone(*Caller) bool    { return true }
func unidad(c *Caller) bool  { return c.Unidad }
func liaison(c *Caller) bool { return c.Liaison() }

// order is the order of ayuda.
var order = []string{"anunciar", "estado", "acciones", "retirar", "publicar", "enterado", "campana", "reporte",
	"canal", "invitar", "institucion", "tablero", "unirme", "ayuda"}

func (s *Service) help(ctx context.Context, c *Caller, in Invocation) (datosbot.Reply, error) {
	if len(in.Args) > 0 {
		name := canonical(datosbot.Fold(in.Args[0]))
		cmd, ok := s.lookup(name)
		if !ok {
			return datosbot.Reply{}, datosbot.Errorf(datosbot.EINVALID, "No conozco el subcomando %q. Escriba /datos ayuda para ver la lista.", datosbot.Truncate(in.Args[0], 40))
		}
		r := datosbot.Reply{Title: "/datos " + cmd.Name, Text: cmd.Summary + ".\nUso: /datos " + cmd.Usage}
		if name == "anunciar" {
			r.Text += "\n\n" + datosbot.URLRule
		}
		if !cmd.Allowed(c) {
			r.Context = "Usted no puede usarlo todavía. " + whoMay[cmd.Name]
		}
		return r, nil
	}
	var lines []string
	for _, name := range order {
		cmd, ok := s.lookup(name)
		if !ok || !cmd.Allowed(c) {
			continue
		}
		lines = append(lines, "/datos "+cmd.Usage+"\n    "+cmd.Summary)
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

func usage(cmd string) error {
	return datosbot.Errorf(datosbot.EINVALID, "Faltan datos. Uso: /datos %s", builtinUsage(cmd))
}

func builtinUsage(cmd string) string {
	if c, ok := builtin[cmd]; ok {
		return c.Usage
	}
	return cmd
}

func instLabel(in datosbot.Institution) string {
	return fmt.Sprintf("%s (%s)", in.Name, in.Key)
}
