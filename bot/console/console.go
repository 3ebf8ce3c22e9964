// Package console is the chat adapter for a terminal: commands are read
// from stdin and replies and posts written to stdout. One terminal can act
// as several people (/como <usuario>) in several chats (/en <canal>).
package console

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/bot"
)

var _ bot.Adapter = (*Adapter)(nil)

// Config configures the console. Zero values mean the defaults.
type Config struct {
	In      io.Reader // default: no input
	Out     io.Writer // default io.Discard
	User    string    // first acting user; default "admin"
	Channel string    // first chat; default "general"
	// Banner are lines printed after the greeting: what the operator of a
	// console, whose log shows only warnings, needs to know of the setup.
	Banner []string
}

// Adapter is the console adapter.
type Adapter struct {
	in      io.Reader
	mu      sync.Mutex // guards out and the acting user/chat
	out     io.Writer
	user    string
	channel string
	banner  []string
}

// New returns a console adapter.
func New(cfg Config) *Adapter {
	a := &Adapter{in: cfg.In, out: cfg.Out, user: cfg.User, channel: cfg.Channel, banner: cfg.Banner}
	if a.out == nil {
		a.out = io.Discard
	}
	if a.user == "" {
		a.user = "admin"
	}
	if a.channel == "" {
		a.channel = "general"
	}
	return a
}

// FirstUser returns the id of the first acting user.
func (a *Adapter) FirstUser() datosbot.UserID { return datosbot.NewUserID(datosbot.Console, a.user) }

// Platform returns datosbot.Console.
func (a *Adapter) Platform() datosbot.Platform { return datosbot.Console }

// Run reads commands until the input ends or ctx is done. The end of input
// only stops the console; the rest of the bot keeps running.
func (a *Adapter) Run(ctx context.Context, h bot.Handler) error {
	if a.in == nil {
		<-ctx.Done()
		return nil
	}
	a.printf("datosbot en la consola. Usted es %s en #%s. Escriba /datos ayuda; /como <usuario> cambia de persona, /en <canal> cambia de chat.\n", a.user, a.channel)
	for _, l := range a.banner {
		a.printf("%s\n", l)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(a.in)
		sc.Buffer(make([]byte, 64*1024), 64*1024)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case line, ok := <-lines:
			if !ok {
				a.printf("(fin de la entrada: la consola deja de leer; el servidor sigue en marcha)\n")
				return nil
			}
			a.line(ctx, h, line)
		}
	}
}

func (a *Adapter) line(ctx context.Context, h bot.Handler, line string) {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return
	}
	word, rest, _ := strings.Cut(line, " ")
	rest = strings.TrimSpace(rest)
	switch datosbot.Fold(word) {
	case "/como":
		a.switchTo(&a.user, rest, "Uso: /como <usuario>, por ejemplo /como ana\n", "Ahora usted es %s.\n")
		return
	case "/en":
		a.switchTo(&a.channel, strings.TrimPrefix(rest, "#"), "Uso: /en <canal>, por ejemplo /en canal-inegi\n", "Ahora escribe en #%s.\n")
		return
	case "/datos", "datos":
		line = rest
	default:
		line = strings.TrimPrefix(line, "/")
	}
	a.mu.Lock()
	user, channel := a.user, a.channel
	a.mu.Unlock()
	reply := h.Handle(ctx, datosbot.Request{
		User:    datosbot.NewUserID(datosbot.Console, user),
		Name:    user,
		Channel: datosbot.NewChannelID(datosbot.Console, channel),
		Text:    line,
	})
	where := "solo para usted"
	if reply.Public {
		where = "en #" + channel
	}
	a.printf("[%s → %s]\n%s\n\n", user, where, indent(reply.PlainText()))
}

// switchTo sets the acting user or chat to name, or prints usage when name
// is not a single word.
func (a *Adapter) switchTo(field *string, name, usage, done string) {
	if name == "" || strings.ContainsAny(name, " :") {
		a.printf("%s", usage)
		return
	}
	a.mu.Lock()
	*field = name
	a.mu.Unlock()
	a.printf(done, name)
}

// Post prints a message the bot sends into a chat.
func (a *Adapter) Post(ctx context.Context, m datosbot.Message) error {
	a.printf("[bot → #%s]\n%s\n\n", m.Channel.Local(), indent(m.Reply.PlainText()))
	return nil
}

func (a *Adapter) printf(format string, args ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	fmt.Fprintf(a.out, format, args...)
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }
