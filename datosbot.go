// Package datosbot holds the domain vocabulary of the bot that helps Mexican
// federal institutions keep step 4.3 of the open-data policy ("Establecer
// estrategias de comunicación digital"): institutions, liaisons and their
// roles, communication actions, bimesters, campaigns, and the
// platform-neutral command request and reply.
//
// The package uses the standard library only (and golang.org/x/net/idna,
// the Go project's IDNA, to compare hosts in ASCII). Redis lives in storage, the
// command language in commands, the calendar of reminders in reminders, and
// the chat platforms in bot/slack, bot/telegram and bot/console.
package datosbot

import (
	"strings"
)

// Platform names a chat platform.
type Platform string

// The platforms the bot speaks.
const (
	Slack    Platform = "slack"
	Telegram Platform = "telegram"
	Console  Platform = "console"
)

// UserID identifies a person on one platform, e.g. "slack:U0123ABC",
// "telegram:123456789" or "console:ana".
type UserID string

// ChannelID identifies a chat on one platform, e.g. "slack:C0123",
// "telegram:-100123" or "console:canal-inegi".
type ChannelID string

// NewUserID joins a platform and a platform-local user id.
func NewUserID(p Platform, id string) UserID { return UserID(string(p) + ":" + id) }

// NewChannelID joins a platform and a platform-local chat id.
func NewChannelID(p Platform, id string) ChannelID { return ChannelID(string(p) + ":" + id) }

// Platform returns the platform part of the id.
func (u UserID) Platform() Platform { p, _ := splitRef(string(u)); return p }

// Local returns the platform-local part of the id.
func (u UserID) Local() string { _, l := splitRef(string(u)); return l }

// Platform returns the platform part of the id.
func (c ChannelID) Platform() Platform { p, _ := splitRef(string(c)); return p }

// Local returns the platform-local part of the id.
func (c ChannelID) Local() string { _, l := splitRef(string(c)); return l }

func splitRef(s string) (Platform, string) {
	p, l, ok := strings.Cut(s, ":")
	if !ok {
		return "", s
	}
	return Platform(p), l
}

// ParseRef validates a reference such as "slack:C0123" and returns it
// unchanged. It accepts only known platforms and a non-empty local part.
func ParseRef(s string) (string, error) {
	p, l, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || l == "" || strings.ContainsAny(l, " \t\n") {
		return "", Errorf(EINVALID, "%q no es una referencia válida: use plataforma:id, por ejemplo slack:C0123 o telegram:-100123.", s)
	}
	switch Platform(p) {
	case Slack, Telegram, Console:
		return p + ":" + l, nil
	}
	return "", Errorf(EINVALID, "%q no es una referencia válida: la plataforma debe ser slack, telegram o console.", s)
}
