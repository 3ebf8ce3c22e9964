package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/datosbot/datosbot"
)

func (s *Service) report(ctx context.Context, c *Caller, in Invocation) (datosbot.Reply, error) {
	if datosbot.Fold(arg(in, 0)) == "semestral" {
		return s.semesterReport(ctx, in)
	}
	b := s.bimester()
	raw := arg(in, 0)
	if v, ok := in.Opts["bimestre"]; ok {
		raw = v
	}
	if raw != "" {
		var err error
		if b, err = datosbot.ParseBimester(raw); err != nil {
			return datosbot.Reply{}, err
		}
	}
	insts, err := s.store.Institutions(ctx)
	if err != nil {
		return datosbot.Reply{}, err
	}
	actions, err := s.store.Actions(ctx, "", b)
	if err != nil {
		return datosbot.Reply{}, err
	}
	rows := datosbot.Compliance(insts, actions, b)
	r := datosbot.Reply{Title: fmt.Sprintf("Cumplimiento del bimestre %s (%s)", b, b.Label())}
	if len(rows) == 0 {
		r.Text = "No hay instituciones activas. Registre una con /datos institucion alta <clave> <nombre>."
		return r, nil
	}
	var ok, missing []string
	for _, row := range rows {
		if row.Compliant {
			ok = append(ok, fmt.Sprintf("%s (%d)", row.Institution, row.Actions))
		} else {
			missing = append(missing, row.Institution)
		}
	}
	r.Text = fmt.Sprintf("%d de %d instituciones cumplen.", len(ok), len(rows))
	if b == s.bimester() {
		left := s.daysLeft(b)
		r.Text += fmt.Sprintf(" Faltan %d %s para el cierre.", left, plural(left, "día", "días"))
	}
	r.Fields = []datosbot.Field{
		{Label: "Cumplen", Value: orNone(ok)},
		{Label: "No cumplen", Value: orNone(missing)},
	}
	r.Context = "Detalle por institución: /datos acciones <clave> bimestre:" + b.String()
	return r, nil
}

func (s *Service) semesterReport(ctx context.Context, in Invocation) (datosbot.Reply, error) {
	if arg(in, 1) == "" {
		return datosbot.Reply{}, datosbot.Errorf(datosbot.EINVALID, "Indique el semestre: /datos reporte semestral 2026-S2 [clave].")
	}
	sem, err := datosbot.ParseSemester(arg(in, 1))
	if err != nil {
		return datosbot.Reply{}, err
	}
	key := datosbot.Fold(arg(in, 2))
	insts, err := s.store.Institutions(ctx)
	if err != nil {
		return datosbot.Reply{}, err
	}
	if key != "" {
		var one []datosbot.Institution
		for _, i := range insts {
			if i.Key == key {
				one = append(one, i)
			}
		}
		if len(one) == 0 {
			return datosbot.Reply{}, datosbot.InstitutionNotFound(key)
		}
		insts = one
	}
	bims := sem.Bimesters()
	perInst := map[string][]string{}
	total := map[string]int{}
	for _, b := range bims {
		actions, err := s.store.Actions(ctx, key, b)
		if err != nil {
			return datosbot.Reply{}, err
		}
		for _, row := range datosbot.Compliance(insts, actions, b) {
			mark := "no"
			if row.Compliant {
				mark = fmt.Sprintf("sí (%d, %d %s)", row.Actions, row.VerifiedEvidence, plural(row.VerifiedEvidence, "verificada", "verificadas"))
				total[row.Institution]++
			}
			perInst[row.Institution] = append(perInst[row.Institution], fmt.Sprintf("B%d %s", b.N, mark))
		}
	}
	r := datosbot.Reply{Title: fmt.Sprintf("Reporte semestral %s de acciones de comunicación digital", sem)}
	var lines []string
	full := 0
	for _, i := range insts {
		cells, ok := perInst[i.Key]
		if !ok {
			continue
		}
		if total[i.Key] == len(bims) {
			full++
		}
		lines = append(lines, fmt.Sprintf("%s: %s", i.Key, strings.Join(cells, " · ")))
	}
	r.Text = fmt.Sprintf("%d de %d instituciones cumplieron los %d bimestres. Entre paréntesis: acciones registradas y, de ellas, con evidencia verificada (la publicación cita la URL de los datos).\n%s", full, len(lines), len(bims), strings.Join(lines, "\n"))
	r.Context = "Exportación completa en CSV: GET /api/v1/actions?format=csv y /api/v1/compliance?format=csv&bimester=…"
	return r, nil
}

func orNone(xs []string) string {
	if len(xs) == 0 {
		return "ninguna"
	}
	return strings.Join(xs, ", ")
}
