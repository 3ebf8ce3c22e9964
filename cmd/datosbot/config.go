package main

import (
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/reminders"
	"github.com/datosbot/datosbot/storage"
)

// Config is the bot's configuration, read from the environment (DESIGN
// §2.3). Nothing is required: with no configuration the bot starts with the
// embedded store and the console.
type Config struct {
	Addr          string             // DATOSBOT_ADDR, default ":8080"
	RedisURL      string             // REDIS_URL; empty = embedded store
	RedisWait     int                // DATOSBOT_REDIS_WAIT: replicas each registration waits for; default 0
	DataFile      string             // DATOSBOT_DATA_FILE, default "datosbot-data.json"
	Loc           *time.Location     // DATOSBOT_TZ, default America/Mexico_City
	Now           time.Time          // DATOSBOT_NOW; zero = the real clock
	Calendar      reminders.Calendar // DATOSBOT_REMINDER_DAYS, DATOSBOT_REMINDER_HOUR, DATOSBOT_DAYS_OFF
	GraceDays     int                // DATOSBOT_GRACE_DAYS, default 5
	DataHosts     []string           // DATOSBOT_DATA_HOSTS
	Admins        []datosbot.UserID  // DATOSBOT_ADMINS
	UnidadChannel datosbot.ChannelID // DATOSBOT_UNIDAD_CHANNEL
	APITokens     []string           // DATOSBOT_API_TOKENS
	Evidence      evidenceConfig     // DATOSBOT_EVIDENCE, DATOSBOT_OEMBED_URL, DATOSBOT_FETCH_ALLOW
	Portal        PortalConfig       // DATOSBOT_CKAN_URL, DATOSBOT_CKAN_INTERVAL, DATOSBOT_CKAN_RPS, DATOSBOT_HIGH_VALUE
	PublicURL     string             // DATOSBOT_PUBLIC_URL, default "http://localhost:8080" (dashboard sign-in links)

	SlackBotToken      string // SLACK_BOT_TOKEN
	SlackSigningSecret string // SLACK_SIGNING_SECRET
	SlackAppToken      string // SLACK_APP_TOKEN
	SlackAPIURL        string // SLACK_API_URL

	TelegramToken         string // TELEGRAM_BOT_TOKEN
	TelegramWebhookSecret string // TELEGRAM_WEBHOOK_SECRET
	TelegramWebhookURL    string // TELEGRAM_WEBHOOK_URL
	TelegramAPIURL        string // TELEGRAM_API_URL

	Console bool // DATOSBOT_CONSOLE; default on when no platform is configured
	// LogLevel (DATOSBOT_LOG_LEVEL: debug, info, warn, error) of the logs on
	// stderr; default info, or warn with the console so that the terminal
	// shows the conversation.
	LogLevel slog.Level

	tickInterval      time.Duration // the scheduler's tick; zero = reminders.DefaultInterval (tests shorten it)
	clockSpeed        float64       // how fast the DATOSBOT_NOW clock runs; zero = 1 (tests run a drill faster)
	evidenceInterval  time.Duration // how often the evidence worker looks for due checks; zero = its default
	evidenceHostEvery time.Duration // least time between fetches from one host; zero = evidence.DefaultHostEvery (tests on loopback shorten it)
}

// Slack reports whether a Slack adapter is configured.
func (c Config) Slack() bool { return c.SlackBotToken != "" }

// Telegram reports whether a Telegram adapter is configured.
func (c Config) Telegram() bool { return c.TelegramToken != "" }

// LoadConfig reads the configuration. A bad value is an error of one line
// that names the variable and says what is wrong; secrets are never
// echoed.
func LoadConfig(getenv func(string) string) (Config, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	c := Config{
		Addr:                  get("DATOSBOT_ADDR"),
		RedisURL:              get("REDIS_URL"),
		DataFile:              get("DATOSBOT_DATA_FILE"),
		SlackBotToken:         get("SLACK_BOT_TOKEN"),
		SlackSigningSecret:    get("SLACK_SIGNING_SECRET"),
		SlackAppToken:         get("SLACK_APP_TOKEN"),
		SlackAPIURL:           get("SLACK_API_URL"),
		TelegramToken:         get("TELEGRAM_BOT_TOKEN"),
		TelegramWebhookSecret: get("TELEGRAM_WEBHOOK_SECRET"),
		TelegramWebhookURL:    get("TELEGRAM_WEBHOOK_URL"),
		TelegramAPIURL:        get("TELEGRAM_API_URL"),
		GraceDays:             5,
		DataHosts:             datosbot.DefaultDataHosts,
	}
	bad := func(name, format string, args ...any) error {
		msg := fmt.Sprintf(format, args...)
		// Some parsers (reminders.ParseDays, ParseHour) name the variable
		// themselves, as NAME="value" …: say it once.
		msg = strings.TrimPrefix(msg, name+"=")
		return fmt.Errorf("configuración inválida: %s: %s", name, msg)
	}
	if c.Addr == "" {
		c.Addr = ":8080"
	}
	if c.DataFile == "" {
		c.DataFile = "datosbot-data.json"
	}
	if c.RedisURL != "" {
		if err := storage.CheckURL(c.RedisURL); err != nil {
			return c, bad("REDIS_URL", "%v; use por ejemplo redis://[:contraseña@]servidor:6379/0 (el valor no se muestra por si contiene una contraseña)", err)
		}
	}
	if v := get("DATOSBOT_REDIS_WAIT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 10 {
			return c, bad("DATOSBOT_REDIS_WAIT", "%q debe ser un número de réplicas de Redis entre 0 y 10", v)
		}
		if n > 0 && c.RedisURL == "" {
			return c, bad("DATOSBOT_REDIS_WAIT", "esperar réplicas necesita un Redis con réplicas (REDIS_URL); el modo embebido no tiene. Quite la variable o configure REDIS_URL")
		}
		c.RedisWait = n
	}
	tz := get("DATOSBOT_TZ")
	if tz == "" {
		tz = reminders.DefaultZone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return c, bad("DATOSBOT_TZ", "%q no es una zona horaria IANA (por ejemplo America/Mexico_City)", tz)
	}
	c.Loc = loc
	if v := get("DATOSBOT_NOW"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return c, bad("DATOSBOT_NOW", "%q no es un instante RFC 3339 (por ejemplo 2026-12-29T09:55:00-06:00)", v)
		}
		c.Now = t
	}
	days, err := reminders.ParseDays(get("DATOSBOT_REMINDER_DAYS"))
	if err != nil {
		return c, bad("DATOSBOT_REMINDER_DAYS", "%s", datosbot.ErrorMessage(err))
	}
	hour, err := reminders.ParseHour(get("DATOSBOT_REMINDER_HOUR"))
	if err != nil {
		return c, bad("DATOSBOT_REMINDER_HOUR", "%s", datosbot.ErrorMessage(err))
	}
	if c.Calendar, err = reminders.NewCalendar(loc, days, hour); err != nil {
		return c, bad("DATOSBOT_REMINDER_DAYS", "%s", datosbot.ErrorMessage(err))
	}
	if c.Calendar.DaysOff, err = reminders.ParseDaysOff(get("DATOSBOT_DAYS_OFF")); err != nil {
		return c, bad("DATOSBOT_DAYS_OFF", "%s", datosbot.ErrorMessage(err))
	}
	if v := get("DATOSBOT_GRACE_DAYS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 60 {
			return c, bad("DATOSBOT_GRACE_DAYS", "%q debe ser un número de días entre 0 y 60", v)
		}
		c.GraceDays = n
	}
	if v := get("DATOSBOT_DATA_HOSTS"); v != "" {
		c.DataHosts = nil
		for _, h := range strings.Split(v, ",") {
			h = strings.ToLower(strings.TrimSpace(h))
			if _, ok := datosbot.CanonicalHost(h); !ok || strings.ContainsAny(h, "/: ") {
				return c, bad("DATOSBOT_DATA_HOSTS", "%q no es un nombre de servidor (use por ejemplo datos.gob.mx,www.datos.gob.mx)", h)
			}
			c.DataHosts = append(c.DataHosts, h)
		}
	}
	if v := get("DATOSBOT_ADMINS"); v != "" {
		for _, a := range strings.Split(v, ",") {
			ref, err := datosbot.ParseRef(a)
			if err != nil {
				return c, bad("DATOSBOT_ADMINS", "%s", datosbot.ErrorMessage(err))
			}
			c.Admins = append(c.Admins, datosbot.UserID(ref))
		}
	}
	if v := get("DATOSBOT_UNIDAD_CHANNEL"); v != "" {
		ref, err := datosbot.ParseRef(v)
		if err != nil {
			return c, bad("DATOSBOT_UNIDAD_CHANNEL", "%s", datosbot.ErrorMessage(err))
		}
		c.UnidadChannel = datosbot.ChannelID(ref)
	}
	if v := get("DATOSBOT_API_TOKENS"); v != "" {
		for i, t := range strings.Split(v, ",") {
			t = strings.TrimSpace(t)
			if len(t) < 32 {
				return c, bad("DATOSBOT_API_TOKENS", "el token número %d tiene menos de 32 caracteres", i+1)
			}
			c.APITokens = append(c.APITokens, t)
		}
	}
	if c.Evidence, err = loadEvidenceConfig(get); err != nil {
		return c, err
	}
	if c.SlackBotToken == "" && (c.SlackSigningSecret != "" || c.SlackAppToken != "") {
		return c, bad("SLACK_BOT_TOKEN", "falta: SLACK_SIGNING_SECRET o SLACK_APP_TOKEN están puestos pero no el token del bot (xoxb-…)")
	}
	if c.SlackBotToken != "" && c.SlackSigningSecret == "" && c.SlackAppToken == "" {
		return c, bad("SLACK_SIGNING_SECRET", "falta: con SLACK_BOT_TOKEN ponga esta variable (modo HTTP) o SLACK_APP_TOKEN (Socket Mode)")
	}
	if c.SlackAppToken != "" && !strings.HasPrefix(c.SlackAppToken, "xapp-") {
		return c, bad("SLACK_APP_TOKEN", "debe ser un token de aplicación que empieza con xapp-")
	}
	for name, v := range map[string]string{"SLACK_API_URL": c.SlackAPIURL, "TELEGRAM_API_URL": c.TelegramAPIURL, "TELEGRAM_WEBHOOK_URL": c.TelegramWebhookURL} {
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, bad(name, "%q no es una URL http(s) absoluta", v)
		}
	}
	if c.TelegramToken == "" && (c.TelegramWebhookSecret != "" || c.TelegramWebhookURL != "") {
		return c, bad("TELEGRAM_BOT_TOKEN", "falta: el modo webhook necesita el token del bot")
	}
	if c.TelegramWebhookURL != "" && c.TelegramWebhookSecret == "" {
		return c, bad("TELEGRAM_WEBHOOK_SECRET", "falta: registrar el webhook sin secreto dejaría la ruta abierta a cualquiera")
	}
	if s := c.TelegramWebhookSecret; s != "" && !validSecretToken(s) {
		return c, bad("TELEGRAM_WEBHOOK_SECRET", "debe tener de 1 a 256 caracteres A-Z, a-z, 0-9, _ o -")
	}
	if c.TelegramToken != "" && !strings.Contains(c.TelegramToken, ":") {
		return c, bad("TELEGRAM_BOT_TOKEN", "no tiene la forma <número>:<clave> que da BotFather")
	}
	if c.Portal, err = loadPortalConfig(get, bad); err != nil {
		return c, err
	}
	if c.PublicURL, err = publicURL(get("DATOSBOT_PUBLIC_URL")); err != nil {
		return c, bad("DATOSBOT_PUBLIC_URL", "%v", err)
	}
	switch v := get("DATOSBOT_CONSOLE"); v {
	case "":
		c.Console = !c.Slack() && !c.Telegram()
	case "1", "true", "si", "sí", "on":
		c.Console = true
	case "0", "false", "no", "off":
		c.Console = false
	default:
		return c, bad("DATOSBOT_CONSOLE", "%q debe ser 1 o 0", v)
	}
	switch v := strings.ToLower(get("DATOSBOT_LOG_LEVEL")); v {
	case "":
		c.LogLevel = slog.LevelInfo
		if c.Console {
			c.LogLevel = slog.LevelWarn
		}
	case "debug", "info", "warn", "error":
		c.LogLevel.UnmarshalText([]byte(v))
	default:
		return c, bad("DATOSBOT_LOG_LEVEL", "%q debe ser debug, info, warn o error", v)
	}
	return c, nil
}

func validSecretToken(s string) bool {
	if len(s) > 256 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// Clock returns the bot's clock: the real one, or one that starts at
// c.Now and runs at normal speed (DATOSBOT_NOW).
func (c Config) Clock() func() time.Time {
	if c.Now.IsZero() {
		return time.Now
	}
	start, base, speed := c.Now, time.Now(), c.clockSpeed
	if speed <= 0 {
		speed = 1
	}
	return func() time.Time { return start.Add(time.Duration(float64(time.Since(base)) * speed)) }
}
