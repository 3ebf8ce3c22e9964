// Command datosbot runs the bot: the chat adapters that are configured (the
// console when none is), the HTTP server and the reminders, against Redis
// or the embedded store.
//
//	datosbot                 run the bot
//	datosbot export [file]   write the whole state as JSON (stdout by default)
//	datosbot import <file>   load a state written by export into an empty store
//	datosbot healthcheck     exit 0 when the running bot answers /healthz (for containers)
//	datosbot version         print the version
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // bimesters and reminders do not depend on the host's zoneinfo
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "datosbot:", err)
		os.Exit(1)
	}
}
