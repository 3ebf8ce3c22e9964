package commands

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/datosbot/datosbot"
)

func (s *Service) institution(ctx context.Context, c *Caller, in Invocation) (datosbot.Reply, error) {
	switch datosbot.Fold(arg(in, 0)) {
	case "alta":
		if len(in.Args) < 3 {
			return datosbot.Reply{}, usage("institucion")
		}
		inst := datosbot.Institution{Key: datosbot.Fold(in.Args[1]), Name: strings.Join(in.Args[2:], " "),
			CKANOrg: in.Opts["ckan"], Active: true, CreatedAt: s.now()}
		if err := inst.Validate(); err != nil {
			return datosbot.Reply{}, err
		}
		err := s.store.CreateInstitution(ctx, inst, c.User)
		if datosbot.ErrorCode(err) == datosbot.ECONFLICT {
			old, err := s.store.Institution(ctx, inst.Key)
			if err != nil {
				return datosbot.Reply{}, err
			}
			if old.Active {
				return datosbot.Reply{}, datosbot.Errorf(datosbot.ECONFLICT, "Ya existe la institución %q. Consulte /datos institucion lista.", inst.Key)
			}
			// Registering a institution that was given de baja reactivates it,
			// with its channels and history.
			if _, err := s.store.PutInstitution(ctx, inst, c.User); err != nil {
				return datosbot.Reply{}, err
			}
			return datosbot.Reply{Title: "Institución reactivada", Text: fmt.Sprintf("%s vuelve a estar activa, con sus %d %s de enlace y su historial.", instLabel(inst), len(old.Channels), plural(len(old.Channels), "canal", "canales"))}, nil
		}
		if err != nil {
			return datosbot.Reply{}, err
		}
		return datosbot.Reply{Title: "Institución registrada", Text: fmt.Sprintf("%s quedó registrada.\nSiguiente paso: en el canal de enlace de la institución escriba /datos canal vincular %s, y luego /datos invitar %s institucional para su Enlace Institucional.", instLabel(inst), inst.Key, inst.Key)}, nil
	case "lista":
		insts, err := s.store.Institutions(ctx)
		if err != nil {
			return datosbot.Reply{}, err
		}
		if len(insts) == 0 {
			return datosbot.Reply{Text: "No hay instituciones registradas. Registre una con /datos institucion alta <clave> <nombre>."}, nil
		}
		var lines []string
		for _, i := range insts {
			line := fmt.Sprintf("%s: %s, %d %s", i.Key, i.Name, len(i.Channels), plural(len(i.Channels), "canal", "canales"))
			if !i.Active {
				line += " (dada de baja)"
			}
			lines = append(lines, line)
		}
		return datosbot.Reply{Title: fmt.Sprintf("Instituciones (%d)", len(insts)), Text: strings.Join(lines, "\n")}, nil
	case "baja":
		key := datosbot.Fold(arg(in, 1))
		if key == "" {
			return datosbot.Reply{}, usage("institucion")
		}
		if _, err := s.store.Institution(ctx, key); err != nil {
			return datosbot.Reply{}, err
		}
		if err := s.store.SetInstitutionActive(ctx, key, false, c.User); err != nil {
			return datosbot.Reply{}, err
		}
		return datosbot.Reply{Text: fmt.Sprintf("La institución %s quedó dada de baja: ya no recibe recordatorios ni aparece en los reportes; su historial se conserva.", key)}, nil
	}
	return datosbot.Reply{}, datosbot.Errorf(datosbot.EINVALID, "Use /datos institucion alta <clave> <nombre>, /datos institucion lista o /datos institucion baja <clave>.")
}

func (s *Service) channel(ctx context.Context, c *Caller, in Invocation) (datosbot.Reply, error) {
	if c.Channel == "" {
		return datosbot.Reply{}, datosbot.Errorf(datosbot.EINVALID, "Este comando se escribe dentro del chat que quiere vincular.")
	}
	switch datosbot.Fold(arg(in, 0)) {
	case "vincular":
		key := datosbot.Fold(arg(in, 1))
		if key == "" {
			return datosbot.Reply{}, usage("canal")
		}
		if !c.Unidad && !c.Has(key, datosbot.RoleInstitucional) {
			return datosbot.Reply{}, datosbot.Errorf(datosbot.EFORBIDDEN, "Solo la Unidad o el Enlace Institucional de %s pueden vincular canales a esa institución.", key)
		}
		inst, err := s.store.Institution(ctx, key)
		if err != nil {
			return datosbot.Reply{}, err
		}
		if !inst.Active {
			return datosbot.Reply{}, datosbot.Errorf(datosbot.EINVALID, "La institución %s está dada de baja; la Unidad puede reactivarla con /datos institucion alta o por la API.", key)
		}
		if err := s.store.LinkChannel(ctx, c.Channel, key, c.User); err != nil {
			if datosbot.ErrorCode(err) == datosbot.ECONFLICT {
				other, _ := s.store.ChannelInstitution(ctx, c.Channel)
				return datosbot.Reply{}, datosbot.Errorf(datosbot.ECONFLICT, "Este chat ya es canal de enlace de %s. Desvincúlelo primero con /datos canal desvincular.", other)
			}
			return datosbot.Reply{}, err
		}
		status, err := s.statusReply(ctx, key)
		if err != nil {
			return datosbot.Reply{}, err
		}
		status.Title = "Canal vinculado a " + inst.Name
		status.Text = "Aquí llegarán los recordatorios del bimestre y las campañas de la Unidad.\n" + status.Text
		status.Public = true
		return status, nil
	case "desvincular":
		key, err := s.store.ChannelInstitution(ctx, c.Channel)
		if datosbot.ErrorCode(err) == datosbot.ENOTFOUND {
			return datosbot.Reply{}, datosbot.Errorf(datosbot.ENOTFOUND, "Este chat no es canal de enlace de ninguna institución.")
		} else if err != nil {
			return datosbot.Reply{}, err
		}
		if !c.Unidad && !c.Has(key, datosbot.RoleInstitucional) {
			return datosbot.Reply{}, datosbot.Errorf(datosbot.EFORBIDDEN, "Solo la Unidad o el Enlace Institucional de %s pueden desvincular este canal.", key)
		}
		if _, err := s.store.UnlinkChannel(ctx, c.Channel, c.User); err != nil {
			return datosbot.Reply{}, err
		}
		return datosbot.Reply{Text: fmt.Sprintf("Este chat dejó de ser canal de enlace de %s: ya no recibirá recordatorios ni campañas.", key), Public: true}, nil
	}
	return datosbot.Reply{}, usage("canal")
}

func (s *Service) invite(ctx context.Context, c *Caller, in Invocation) (datosbot.Reply, error) {
	var key, roleArg string
	switch len(in.Args) {
	case 1:
		roleArg = in.Args[0]
	case 2:
		key, roleArg = datosbot.Fold(in.Args[0]), in.Args[1]
	default:
		return datosbot.Reply{}, usage("invitar")
	}
	role, err := datosbot.ParseRole(roleArg)
	if err != nil {
		return datosbot.Reply{}, err
	}
	if role.Central() {
		if !c.Unidad {
			return datosbot.Reply{}, datosbot.Errorf(datosbot.EFORBIDDEN, "Solo la Unidad puede invitar a %s.", role)
		}
		key = ""
	} else {
		if key == "" {
			return datosbot.Reply{}, usage("invitar")
		}
		if !c.Unidad && !(role == datosbot.RoleComunicacion && c.Has(key, datosbot.RoleInstitucional)) {
			return datosbot.Reply{}, datosbot.Errorf(datosbot.EFORBIDDEN, "El Enlace Institucional solo puede invitar enlaces de comunicacion de su propia institución; para otros roles pida la invitación a la Unidad.")
		}
		inst, err := s.store.Institution(ctx, key)
		if err != nil {
			return datosbot.Reply{}, err
		}
		if !inst.Active {
			return datosbot.Reply{}, datosbot.Errorf(datosbot.EINVALID, "La institución %s está dada de baja.", key)
		}
	}
	now := s.now()
	inv := datosbot.Invitation{Role: role, Institution: key, CreatedBy: c.User, CreatedAt: now, ExpiresAt: now.Add(datosbot.InvitationTTL)}
	code, err := withNewID("", 6, func(id string) error {
		inv.Code = id
		return s.store.CreateInvitation(ctx, inv)
	})
	if err != nil {
		return datosbot.Reply{}, err
	}
	who := string(role)
	if key != "" {
		who += " de " + key
	}
	r := datosbot.Reply{Title: "Invitación creada", Text: fmt.Sprintf("Código para %s: %s\nLa persona invitada escribe /datos unirme %s (en Slack o Telegram). Vale una sola vez, hasta el %s.",
		who, code, code, datosbot.DateOf(inv.ExpiresAt, s.loc).LongDate()), Secret: true}
	if s.tgBot != "" {
		r.Fields = append(r.Fields, datosbot.Field{Label: "Enlace para Telegram", Value: "https://t.me/" + s.tgBot + "?start=" + code})
	}
	return r, nil
}

// joinAttempts is how many invitation codes a person may try per hour.
const joinAttempts = 5

func (s *Service) join(ctx context.Context, c *Caller, in Invocation) (datosbot.Reply, error) {
	code := strings.ToUpper(strings.TrimSpace(arg(in, 0)))
	if code == "" {
		return datosbot.Reply{}, datosbot.Errorf(datosbot.EINVALID, "Escriba el código que le dieron: /datos unirme <código>.")
	}
	// Codes are short enough to type on a phone, so guessing is limited:
	// each person has joinAttempts tries per hour.
	allowed := false
	for n := range joinAttempts {
		ok, err := s.store.Once(ctx, fmt.Sprintf("unirme:%s:%d", c.User, n), time.Hour)
		if err != nil {
			return datosbot.Reply{}, err
		}
		if ok {
			allowed = true
			break
		}
	}
	if !allowed {
		return datosbot.Reply{}, datosbot.Errorf(datosbot.EFORBIDDEN, "Demasiados intentos con códigos de invitación. Espere una hora, revise el código con quien se lo dio y vuelva a intentarlo.")
	}
	inv, err := s.store.RedeemInvitation(ctx, code, c.User, s.now())
	if datosbot.ErrorCode(err) == datosbot.ENOTFOUND {
		return datosbot.Reply{}, datosbot.Errorf(datosbot.ENOTFOUND, "El código %s no existe. Revise que esté bien escrito o pida uno nuevo a quien lo invitó.", datosbot.Truncate(code, 20))
	}
	if err != nil {
		return datosbot.Reply{}, err
	}
	if inv.Institution == "" {
		return datosbot.Reply{Title: "Bienvenida", Text: fmt.Sprintf("Ahora tiene el rol %s. Escriba /datos ayuda para ver lo que puede hacer.", inv.Role)}, nil
	}
	return datosbot.Reply{Title: "Bienvenida", Text: fmt.Sprintf("Ahora es enlace (%s) de %s.\nRegistre cada acción de comunicación con /datos anunciar <url-datos> <url-publicación>, y consulte el bimestre con /datos estado.", inv.Role, inv.Institution)}, nil
}
