package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/datosbot/datosbot"
)

// openError words a failure to open the store for the operator, once: an
// application error by its Spanish message alone (it names the variable,
// e.g. DATOSBOT_DATA_FILE), and Redis out of reach by its cause, not by the
// "try again later" meant for chat users.
func openError(err error) error {
	switch datosbot.ErrorCode(err) {
	case datosbot.EUNAVAILABLE:
		return fmt.Errorf("no se pudo conectar con Redis (REDIS_URL): %s; revise que Redis esté en marcha y accesible desde aquí", cause(err))
	case datosbot.EINTERNAL:
		return fmt.Errorf("no se pudo abrir el almacenamiento: %w", err)
	}
	return errors.New(datosbot.ErrorMessage(err))
}

// cause returns the text of what went wrong under an application error:
// the first error joined beside it that is not one (storage joins Redis'
// own error to EUNAVAILABLE), else its message.
func cause(err error) string {
	for e := err; e != nil; e = errors.Unwrap(e) {
		joined, ok := e.(interface{ Unwrap() []error })
		if !ok {
			continue
		}
		for _, j := range joined.Unwrap() {
			var app *datosbot.Error
			if !errors.As(j, &app) {
				return j.Error()
			}
		}
	}
	return datosbot.ErrorMessage(err)
}

// namedError prefixes err with the variable it is about, unless its text
// already names it, so that an operator reads the name once.
func namedError(name string, err error) error {
	if strings.Contains(err.Error(), name) {
		return err
	}
	return fmt.Errorf("%s: %w", name, err)
}
