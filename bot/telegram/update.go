package telegram

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/bot"
)

// commandText turns what a person typed into the command language, or
// reports false when it is not a command for this bot: "/estado",
// "/estado@DatosBot", "/datos estado" → "estado"; "/start CODE" →
// "unirme CODE"; "/start" and "/help" → "ayuda". A command addressed to
// another bot (@OtherBot) is not ours.
func commandText(text, botName string) (string, bool) {
	text = strings.TrimSpace(text)
	if !strings.HasPrefix(text, "/") {
		return "", false
	}
	head, args := text[1:], ""
	if i := strings.IndexAny(head, " \t\n"); i >= 0 {
		head, args = head[:i], strings.TrimSpace(head[i+1:])
	}
	cmd, target, addressed := strings.Cut(head, "@")
	if addressed && !strings.EqualFold(target, botName) {
		return "", false
	}
	if cmd == "" {
		return "", false
	}
	join := func(cmd string) string {
		if args == "" {
			return cmd
		}
		return cmd + " " + args
	}
	switch datosbot.Fold(cmd) {
	case "start":
		if args == "" {
			return "ayuda", true
		}
		return join("unirme"), true
	case "help":
		return join("ayuda"), true
	case "datos":
		if args == "" {
			return "ayuda", true
		}
		return args, true
	}
	return join(cmd), true
}

func displayName(u *models.User) string {
	if u == nil {
		return ""
	}
	name := strings.TrimSpace(u.FirstName + " " + u.LastName)
	if name == "" {
		name = u.Username
	}
	return name
}

func chatRef(id int64) datosbot.ChannelID {
	return datosbot.NewChannelID(datosbot.Telegram, strconv.FormatInt(id, 10))
}

func userRef(id int64) datosbot.UserID {
	return datosbot.NewUserID(datosbot.Telegram, strconv.FormatInt(id, 10))
}

// errPanic marks an update whose handling panicked.
var errPanic = errors.New("telegram: panic while handling an update")

// handleUpdate handles one update at most once across replicas. It returns
// nil when the update is handled (or was before), and an error when it
// must be delivered again; the dedupe record is then forgotten when the
// Deduper can forget.
func (a *Adapter) handleUpdate(ctx context.Context, h bot.Handler, upd *models.Update) (err error) {
	key := "telegram:update:" + strconv.FormatInt(a.me.ID, 10) + ":" + strconv.FormatInt(upd.ID, 10)
	first, err := a.dedupe.Once(ctx, key, dedupeTTL)
	if err != nil {
		return fmt.Errorf("telegram: dedupe update %d: %w", upd.ID, a.redact.Error(err))
	}
	if !first {
		return nil
	}
	defer func() {
		if p := recover(); p != nil {
			a.log.Error("panic while handling a telegram update", "update_id", upd.ID, "panic", a.redact.String(fmt.Sprint(p)),
				"stack", a.redact.String(string(debug.Stack())))
			err = errPanic
		}
		if err != nil {
			if f, ok := a.dedupe.(Forgetter); ok {
				if ferr := f.Forget(context.WithoutCancel(ctx), key); ferr != nil {
					a.log.Warn("telegram: could not forget a failed update", "update_id", upd.ID, "err", a.redact.Error(ferr))
				}
			}
		}
	}()
	switch {
	case upd.Message != nil:
		a.handleMessage(ctx, h, upd.ID, upd.Message)
	case upd.CallbackQuery != nil:
		a.handleCallback(ctx, h, upd.ID, upd.CallbackQuery)
	}
	return nil
}

func (a *Adapter) handleMessage(ctx context.Context, h bot.Handler, updateID int64, m *models.Message) {
	if m.MigrateToChatID != 0 && a.cfg.OnMigrate != nil {
		a.cfg.OnMigrate(ctx, chatRef(m.Chat.ID), chatRef(m.MigrateToChatID))
	}
	text, ok := commandText(m.Text, a.botName)
	if !ok || m.From == nil || m.From.ID == 0 || m.Chat.ID == 0 {
		// Telegram always names the sender and the chat of a command; an
		// update without them runs nothing, never as user 0 or in chat 0.
		return
	}
	if m.SenderChat != nil {
		// An anonymous group admin or a channel: Telegram hides the person.
		a.reply(ctx, m.Chat.ID, m.ID, datosbot.Reply{
			Text:  "No puedo saber quién envió este comando porque se envió de forma anónima o en nombre de un canal. Desactive «Permanecer anónimo» en sus permisos de administrador, o escriba el comando en un chat privado con el bot.",
			Error: datosbot.EUNAUTHORIZED,
		})
		return
	}
	if m.From.IsBot {
		return
	}
	req := datosbot.Request{
		ID:      "telegram:" + strconv.FormatInt(updateID, 10),
		User:    userRef(m.From.ID),
		Name:    displayName(m.From),
		Channel: chatRef(m.Chat.ID),
		Private: m.Chat.Type == models.ChatTypePrivate,
		Text:    text,
	}
	a.answer(ctx, m, h.Handle(ctx, req))
}

// answer replies to the command m. Telegram has no replies visible to one
// member of a group, so a secret reply (an invitation code) typed in a
// group goes to the person's private chat with the bot, and the group only
// learns where it went.
func (a *Adapter) answer(ctx context.Context, m *models.Message, r datosbot.Reply) {
	if !r.Secret || m.Chat.Type == models.ChatTypePrivate {
		a.reply(ctx, m.Chat.ID, m.ID, r)
		return
	}
	// In a private chat, the chat id is the user id.
	if _, err := a.sendFrom(ctx, m.From.ID, 0, r, 0); err != nil {
		a.log.Info("telegram: could not answer in private", "user", m.From.ID, "err", err)
		a.reply(ctx, m.Chat.ID, m.ID, datosbot.Reply{Error: datosbot.EUNAVAILABLE, Text: fmt.Sprintf(
			"La respuesta contiene un código que solo usted debe ver, y no pude enviársela en privado. Abra el chat privado con el bot en https://t.me/%s, pulse Iniciar y repita el comando allí.", a.me.Username)})
		return
	}
	a.reply(ctx, m.Chat.ID, m.ID, datosbot.Reply{Text: "Le envié la respuesta por mensaje privado: contiene un código que solo usted debe ver."})
}

func (a *Adapter) handleCallback(ctx context.Context, h bot.Handler, updateID int64, q *models.CallbackQuery) {
	var chat models.Chat
	msgID := 0
	switch {
	case q.Message.Message != nil:
		chat, msgID = q.Message.Message.Chat, q.Message.Message.ID
	case q.Message.InaccessibleMessage != nil:
		chat, msgID = q.Message.InaccessibleMessage.Chat, q.Message.InaccessibleMessage.MessageID
	}
	if chat.ID == 0 || q.From.ID == 0 || q.Data == "" {
		a.answerCallback(ctx, q.ID, "Este botón ya no está disponible.", true)
		return
	}
	req := datosbot.Request{
		ID:      "telegram:" + strconv.FormatInt(updateID, 10),
		User:    userRef(q.From.ID),
		Name:    displayName(&q.From),
		Channel: chatRef(chat.ID),
		Private: chat.Type == models.ChatTypePrivate,
		Text:    q.Data,
	}
	reply := h.Handle(ctx, req)
	a.answerCallback(ctx, q.ID, shortText(reply), reply.Error != "")
	a.reply(ctx, chat.ID, msgID, reply)
}

func (a *Adapter) answerCallback(ctx context.Context, id, text string, alert bool) {
	_, err := a.api.AnswerCallbackQuery(ctx, &tgbot.AnswerCallbackQueryParams{
		CallbackQueryID: id, Text: text, ShowAlert: alert,
	})
	if err != nil {
		a.log.Warn("telegram answerCallbackQuery failed", "err", a.redact.Error(err))
	}
}

// reply answers a command in its chat, as a reply to the command's
// message. The command has already taken effect, so a failure to send is
// logged rather than making Telegram deliver the command again; a short
// flood wait is honoured once.
func (a *Adapter) reply(ctx context.Context, chatID int64, replyTo int, r datosbot.Reply) {
	sent, err := a.sendFrom(ctx, chatID, replyTo, r, 0)
	var rl *datosbot.RateLimitError
	if errors.As(err, &rl) && rl.RetryAfter <= 10*time.Second && sleep(ctx, rl.RetryAfter) {
		_, err = a.sendFrom(ctx, chatID, replyTo, r, sent)
	}
	if err != nil {
		a.log.Warn("telegram: could not send a reply", "chat", chatID, "err", err)
	}
}
